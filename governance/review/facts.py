"""What the rules of a release read, gathered once: the rows behind a release, and the facts drawn from them.

:class:`ReleaseRecord` holds the rows (its product, policy, live release, current runs, sign-offs, decisions
and the authors of what it changes); the decisions and views work on it. :class:`ReleaseFacts` holds plain
values drawn from a record at one moment; the guards in ``governance.review.rules`` read only those, so each
guard is a pure function that a test can call with made-up facts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from governance.catalog.models import ComponentKind, Product
from governance.compliance.obligations import ReleaseCompliance, release_compliance_many
from governance.kernel.db import utcnow
from governance.releases.manifests import manifest_changes
from governance.releases.models import Decision, Policy, Release, ReleaseState, SignOff
from governance.review import repository
from governance.review.repository import VersionKey
from governance.runs.models import Run

COMPONENT_KINDS = frozenset(kind.value for kind in ComponentKind)
# A reviewer's decision that sends a signed-off release back to its owner for a fix, keeping it open.
CHANGES_REQUESTED = "sent_back"


@dataclass(frozen=True)
class ReleaseRecord:
    """The rows one release's rules and views read, fetched together."""

    release: Release
    product: Product
    policy: Policy
    live: Release | None
    runs: list[Run]
    """The current run of each suite (re-runs replace earlier ones)."""
    signoffs: list[SignOff]
    """Every sign-off, oldest first, including those of earlier cycles and manifests."""
    decisions: list[Decision]
    """Every reviewer's decision, oldest first, including those of earlier cycles and manifests."""
    authors: dict[str, list[str]]
    """Who wrote the component versions this release changes against the live one, every version between the
    live manifest's and the release's (not just the heads): user -> versions."""
    owners: frozenset[str]
    """Everyone who owned the product at any time during the release's life, the current owner included."""
    superseded_by: int | None
    """The number of the release cut after this one, read only for a superseded release."""
    compliance: ReleaseCompliance | None = None
    """Its obligations, the documents' lint findings, and whether its declared use is prohibited."""

    def is_current(self, row: SignOff | Decision) -> bool:
        """Whether a sign-off or decision was given on this release's current manifest and cycle."""
        return row.cycle == self.release.cycle and row.manifest_hash == self.release.manifest_hash

    @property
    def current_signoff(self) -> SignOff | None:
        return next((s for s in reversed(self.signoffs) if self.is_current(s)), None)

    @property
    def current_decisions(self) -> list[Decision]:
        return [d for d in self.decisions if self.is_current(d)]

    @property
    def required_runs(self) -> list[Run]:
        """The current runs of the suites the policy requires (all of the release's suites when it names none)."""
        required = set(self.policy.required_suites)
        return [run for run in self.runs if not required or run.suite_name in required]

    @property
    def changes_requested(self) -> Decision | None:
        """The newest request for changes, unless the owner has signed off again since."""
        request = next((d for d in reversed(self.decisions) if d.decision == CHANGES_REQUESTED), None)
        if request is None:
            return None
        later = [s for s in self.signoffs if s.created_at > request.created_at or s.cycle > request.cycle]
        return None if later else request

    @property
    def approvers(self) -> frozenset[str]:
        """The distinct reviewers whose approval counts towards the policy's number."""
        return frozenset(d.reviewer for d in self.current_decisions if d.decision == "approved")


@dataclass(frozen=True)
class ReleaseFacts:
    """What the guards look at, as plain values drawn from a record at one moment."""

    release_id: int
    release_number: int
    """The number people quote: release 6 of the product (refusals name it)."""
    state: ReleaseState
    error: str | None
    product_slug: str
    owner_id: int
    owner_name: str
    risk_tier: str
    required_approvals: int
    evidence_max_age_days: int
    authors: Mapping[str, tuple[str, ...]]
    """Who wrote what this release changes against the live one, every version in between: user -> versions."""
    signers: frozenset[str]
    """Everyone who ever signed off this release, in any cycle or on any manifest."""
    owners: frozenset[str]
    """Everyone who owned the product at any time during the release's life, the current owner included."""
    deciders: frozenset[str]
    """Reviewers who decided on the current manifest and cycle, either way."""
    approvers: frozenset[str]
    """Reviewers whose approval of the current manifest and cycle counts."""
    signed_off: bool
    """The current owner signed off the current manifest and cycle (a sign-off by a former owner does not count)."""
    runs: int
    finished_runs: int
    oldest_evidence: datetime | None
    """When the oldest current run finished: the age of the evidence."""
    superseded_by: int | None
    rejection: tuple[str, str] | None
    """The newest rejection: (reviewer, reason)."""
    now: datetime
    refuse_offline_evidence: bool = False
    """The policy refuses approval while a required suite's evidence comes only from the offline provider."""
    offline_suites: tuple[str, ...] = ()
    """Required suites whose current run answered from the offline provider."""
    changes_requested: tuple[str, str] | None = None
    """An open request for changes: (reviewer, what to change)."""
    prohibited: str | None = None
    """Why the product's declared use is prohibited (Art. 5), if it is."""
    unmet_obligations: tuple[str, ...] = ()
    """The obligations of its classification not met by evidence: 'name (article): reason'."""
    blocking_findings: tuple[str, ...] = ()
    """Lint findings of its documents, when the policy blocks on them."""


def facts_of(record: ReleaseRecord, now: datetime | None = None) -> ReleaseFacts:
    """The facts of a release at ``now`` (default: this moment)."""
    release, product, policy = record.release, record.product, record.policy
    rejection = next((d for d in reversed(record.decisions) if d.decision == "rejected"), None)
    current_signoff = record.current_signoff
    return ReleaseFacts(
        release_id=release.id,
        release_number=release.number,
        state=ReleaseState(release.state),
        error=release.error,
        product_slug=product.slug,
        owner_id=product.owner_id,
        owner_name=product.owner.name,
        risk_tier=policy.risk_tier,
        required_approvals=policy.required_approvals,
        evidence_max_age_days=policy.evidence_max_age_days,
        authors={name: tuple(versions) for name, versions in record.authors.items()},
        signers=frozenset(s.actor for s in record.signoffs),
        owners=record.owners,
        deciders=frozenset(d.reviewer for d in record.current_decisions),
        approvers=record.approvers,
        signed_off=current_signoff is not None and current_signoff.actor == product.owner.name,
        runs=len(record.runs),
        finished_runs=sum(1 for r in record.runs if r.finished_at),
        oldest_evidence=min((r.finished_at for r in record.runs if r.finished_at), default=None),
        superseded_by=record.superseded_by,
        rejection=(rejection.reviewer, rejection.note) if rejection else None,
        now=now or utcnow(),
        refuse_offline_evidence=policy.refuse_offline_evidence,
        offline_suites=tuple(sorted(r.suite_name for r in record.required_runs if r.offline)),
        changes_requested=(request.reviewer, request.note) if (request := record.changes_requested) else None,
        prohibited=record.compliance.prohibited if record.compliance else None,
        unmet_obligations=record.compliance.unmet if record.compliance else (),
        blocking_findings=record.compliance.blocking_findings if record.compliance else (),
    )


def changed_versions(release: Release, product: Product, live: Release | None) -> list[VersionKey]:
    """The component versions this release brings in against the live one, in the order the changes list them.

    Every version between the live manifest's and the release's counts, not just the head: a clause written in
    v2 is still in a v3 that only changed whitespace. A component new to the product brings in its head.
    """
    keys: list[VersionKey] = []
    for change in manifest_changes(live.manifest if live else None, release.manifest):
        to, was = change.get("to_version"), change.get("from_version")
        if change["kind"] not in COMPONENT_KINDS or to is None:
            continue
        owner = product.id if ComponentKind(change["kind"]).owned_by_product else None
        numbers = range(was + 1, to + 1) if was is not None and was < to else range(to, to + 1)
        if was is not None and was > to:  # back to an older version: what lies between is what changes
            numbers = range(to, was)
        keys.extend(VersionKey(owner, change["kind"], change["name"], number) for number in numbers)
    return keys


def _owners_during(release: Release, product: Product, changes: list[tuple[datetime, set[str]]]) -> frozenset[str]:
    """Who owned the product while the release existed: the current owner and both sides of every later hand-over."""
    owners = {product.owner.name}
    for when, names in changes:
        if when >= release.created_at:
            owners |= names
    return frozenset(owners)


def gather_many(session: Session, releases: Iterable[Release]) -> dict[int, ReleaseRecord]:
    """The records of many releases, each kind of row read in one query for all of them.

    Args:
        session: The unit of work to read in.
        releases: The releases; a caller that decides locks its release before gathering.

    Returns:
        Each release's record by release id.
    """
    by_id = {release.id: release for release in releases}
    ids = list(by_id)
    products = repository.products_by_id(session, {r.product_id for r in by_id.values()})
    policies = repository.policies_by_tier(session, {p.risk_tier for p in products.values()})
    live = repository.live_releases(session, list(products))
    runs = repository.current_runs_of(session, ids)
    signoffs = repository.signoffs_of(session, ids)
    decisions = repository.decisions_of(session, ids)
    superseded = [r.id for r in by_id.values() if r.state == ReleaseState.superseded.value]
    newer = repository.next_release_numbers(session, superseded)
    changed = {
        release.id: changed_versions(release, products[release.product_id], live.get(release.product_id))
        for release in by_id.values()
    }
    handovers = repository.owner_changes(session, {p.slug for p in products.values()})
    written_by = repository.version_authors(session, (key for keys in changed.values() for key in keys))
    compliance = release_compliance_many(
        session,
        [(r, products[r.product_id], policies[products[r.product_id].risk_tier]) for r in by_id.values()],
    )
    records = {}
    for release in by_id.values():
        product = products[release.product_id]
        authors: dict[str, list[str]] = {}
        for key in changed[release.id]:
            if key in written_by:
                authors.setdefault(written_by[key], []).append(f"{key.kind} {key.name} v{key.number}")
        records[release.id] = ReleaseRecord(
            release=release,
            product=product,
            policy=policies[product.risk_tier],
            live=live.get(release.product_id),
            runs=runs[release.id],
            signoffs=signoffs[release.id],
            decisions=decisions[release.id],
            authors=authors,
            owners=_owners_during(release, product, handovers[product.slug]),
            superseded_by=newer.get(release.id),
            compliance=compliance[release.id],
        )
    return records


def gather(session: Session, release: Release) -> ReleaseRecord:
    """The record of one release (see :func:`gather_many`)."""
    return gather_many(session, [release])[release.id]


def gather_by_id(session: Session, release_ids: Collection[int]) -> dict[int, ReleaseRecord]:
    """The records of the releases with these ids (see :func:`gather_many`); unknown ids are left out."""
    return gather_many(session, repository.releases_by_id(session, release_ids).values())
