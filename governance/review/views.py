"""What callers get back about releases and runs, built from the domain's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.kernel.db import utcnow
from governance.releases.manifests import manifest_changes
from governance.releases.models import Release
from governance.releases.policies import policy_snapshot
from governance.releases.reading import release_href
from governance.review import repository
from governance.review.facts import ReleaseRecord, changed_versions, facts_of, gather
from governance.review.rules import RULES, Action, held_by
from governance.runs.models import Run


class RunSummaryView(BaseModel):
    id: int
    release_id: int
    suite: str
    suite_version: int
    state: str
    provider: str
    offline: bool = Field(description="True when answers came from the offline provider, not a model.")
    attempt: int
    planned: int = Field(description="Case executions planned (cases x repeats).")
    recorded: int = Field(description="Case executions recorded so far.")
    pass_rate: float | None
    threshold: float | None
    error: str | None
    summary: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SignOffView(BaseModel):
    actor: str
    note: str
    waiver: str | None = Field(description="The owner's written justification for a failed release, in full.")
    cycle: int
    current: bool = Field(description="Given on this release's current manifest and cycle.")
    created_at: datetime


class DecisionView(BaseModel):
    reviewer: str
    decision: str
    note: str
    cycle: int
    current: bool
    created_at: datetime


class ReleaseSummary(BaseModel):
    id: int = Field(description="The global id; still accepted at /releases/{id}, but people quote the number.")
    product: str
    number: int = Field(description="The release's number within its product: release 6 of goal-coach.")
    href: str = Field(description="The release's address in the API, by product and number.")
    state: str
    manifest_hash: str
    cause: dict[str, Any]
    created_by: str
    created_at: datetime
    state_changed_at: datetime
    revalidation_due_at: datetime | None
    error: str | None


class ReleaseView(ReleaseSummary):
    held_by: str = Field(description="Which rule holds the release where it is, in words.")
    cycle: int
    manifest: dict[str, Any]
    live_release: int | None = Field(description="The global id of the product's live release.")
    live_release_number: int | None = Field(default=None, description="The number of the product's live release.")
    changes: list[dict[str, Any]] = Field(
        description="What differs from the release it is compared with, component by component."
    )
    compared_with: int | None = Field(
        default=None,
        description="The release the changes are against: the live one, or for a live release the one it replaced.",
    )
    compared_with_number: int | None = None
    runs: list[RunSummaryView]
    signoffs: list[SignOffView]
    decisions: list[DecisionView]
    approvals: int
    required_approvals: int
    policy: dict[str, Any]


def run_summary(run: Run, recorded: int) -> RunSummaryView:
    summary = run.summary or {}
    return RunSummaryView(
        id=run.id,
        release_id=run.release_id,
        suite=run.suite_name,
        suite_version=run.suite_version,
        state=run.state,
        provider=run.provider,
        offline=run.offline,
        attempt=run.attempt,
        planned=run.planned,
        recorded=recorded,
        pass_rate=summary.get("pass_rate"),
        threshold=summary.get("threshold"),
        error=run.error,
        summary=run.summary,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def release_summary(release: Release, product_slug: str) -> ReleaseSummary:
    return ReleaseSummary(
        id=release.id,
        product=product_slug,
        number=release.number,
        href=release_href(product_slug, release.number),
        state=release.state,
        manifest_hash=release.manifest_hash,
        cause=release.cause,
        created_by=release.created_by,
        created_at=release.created_at,
        state_changed_at=release.state_changed_at,
        revalidation_due_at=release.revalidation_due_at,
        error=release.error,
    )


def release_view(session: Session, release: Release) -> ReleaseView:
    """Everything about a release a caller reads: where it is and why, what changed, the evidence, the decisions.

    Args:
        session: The unit of work to read in.
        release: The release.

    Returns:
        The release's view.
    """
    return release_view_of(session, gather(session, release))


def baseline_of(session: Session, record: ReleaseRecord) -> Release | None:
    """What a release is compared with: the live release, or, once it is live itself, the one it replaced, so
    the diff a release went live on stays on its page."""
    if record.live is not None and record.live.id == record.release.id:
        return repository.replaced_release(session, record.release)
    return record.live


def release_view_of(session: Session, record: ReleaseRecord) -> ReleaseView:
    """The view of a release whose record is already gathered (a page that also asks the rules reads it once)."""
    release, product, policy, live = record.release, record.product, record.policy, record.live
    counts = repository.recorded_counts(session, [r.id for r in record.runs])
    signoff = record.current_signoff
    current = {d.id for d in record.current_decisions}
    baseline = baseline_of(session, record)
    return ReleaseView(
        **release_summary(release, product.slug).model_dump(),
        held_by=held_by(facts_of(record)),
        cycle=release.cycle,
        manifest=release.manifest,
        live_release=live.id if live else None,
        live_release_number=live.number if live else None,
        changes=manifest_changes(baseline.manifest if baseline else None, release.manifest),
        compared_with=baseline.id if baseline else None,
        compared_with_number=baseline.number if baseline else None,
        runs=[run_summary(r, counts.get(r.id, 0)) for r in record.runs],
        signoffs=[
            SignOffView(
                actor=s.actor,
                note=s.note,
                waiver=s.waiver,
                cycle=s.cycle,
                current=s is signoff,
                created_at=s.created_at,
            )
            for s in record.signoffs
        ],
        decisions=[
            DecisionView(
                reviewer=d.reviewer,
                decision=d.decision,
                note=d.note,
                cycle=d.cycle,
                current=d.id in current,
                created_at=d.created_at,
            )
            for d in record.decisions
        ],
        approvals=len(record.approvers),
        required_approvals=policy.required_approvals,
        policy=policy_snapshot(policy),
    )


# --- the reviewer's checklist ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteCheck:
    """One suite's evidence against the policy: its pass rate against its threshold, and where it came from."""

    suite: str
    required: bool
    state: str
    pass_rate: float | None
    threshold: float | None
    offline: bool
    finished_at: datetime | None
    required_failures: tuple[str, ...]

    @property
    def meets(self) -> bool | None:
        if self.pass_rate is None or self.threshold is None:
            return None
        return self.pass_rate >= self.threshold and not self.required_failures


@dataclass(frozen=True)
class ReleaseChecklist:
    """The facts a reviewer weighs first, checked against the product's policy; the same on the release page
    and in every queue row."""

    release_id: int
    state: str
    risk_tier: str
    suites: tuple[SuiteCheck, ...]
    failed: bool
    """A suite did not pass (or the release failed its runs)."""
    waiver: str | None
    """The current sign-off's waiver, in full."""
    waived_by: str | None
    offline_suites: tuple[str, ...]
    """Required suites whose evidence comes only from the offline provider."""
    refuse_offline_evidence: bool
    offline_evidence_reason: str
    evidence_age_days: int | None
    """Days since the oldest current run finished."""
    evidence_max_age_days: int
    approvals: tuple[str, ...]
    required_approvals: int
    may_still_approve: tuple[str, ...]
    """Reviewers independent of the release who have not yet decided on it."""
    revalidation_due_at: datetime | None
    changes_requested: tuple[str, str] | None

    @property
    def verdict(self) -> str:
        """FAILED · WAIVED, FAILED, PASSED or TESTING: the outcome in one word, the waiver always beside it."""
        if self.failed:
            return "FAILED · WAIVED" if self.waiver else "FAILED"
        return "TESTING" if self.state == "testing" or any(s.pass_rate is None for s in self.suites) else "PASSED"

    @property
    def required_failures(self) -> list[tuple[str, str]]:
        """(suite, case) of every required case that did not pass."""
        return [(check.suite, case) for check in self.suites for case in check.required_failures]

    @property
    def stale(self) -> bool:
        return self.evidence_age_days is not None and self.evidence_age_days > self.evidence_max_age_days


# The approve rule's guards about who the reviewer is, not about the release's state: who may still approve.
_INDEPENDENT = ("reviewer_role", "not_the_owner", "not_a_past_owner", "not_a_signer", "not_an_author", "first_decision")


def checklist_of(record: ReleaseRecord, reviewers: list[User], now: datetime | None = None) -> ReleaseChecklist:
    """The checklist of a release from its gathered record and the enabled reviewers (read once for many)."""
    facts = facts_of(record, now)
    required = {run.suite_name for run in record.required_runs}
    suites = tuple(
        SuiteCheck(
            suite=run.suite_name,
            required=run.suite_name in required,
            state=run.state,
            pass_rate=(run.summary or {}).get("pass_rate"),
            threshold=(run.summary or {}).get("threshold"),
            offline=run.offline,
            finished_at=run.finished_at,
            required_failures=tuple((run.summary or {}).get("required_failures") or ()),
        )
        for run in sorted(record.runs, key=lambda r: (r.suite_name not in required, r.suite_name))
    )
    signoff = record.current_signoff
    independent = [guard for guard in RULES[Action.approve] if guard.rule in _INDEPENDENT]
    may_approve = tuple(user.name for user in reviewers if all(guard(facts, user) is None for guard in independent))
    failed = record.release.state == "failed" or any(check.meets is False for check in suites)
    failed = failed or bool(signoff is not None and signoff.waiver)
    return ReleaseChecklist(
        release_id=record.release.id,
        state=record.release.state,
        risk_tier=record.policy.risk_tier,
        suites=suites,
        failed=failed,
        waiver=signoff.waiver if signoff is not None else None,
        waived_by=signoff.actor if signoff is not None and signoff.waiver else None,
        offline_suites=facts.offline_suites,
        refuse_offline_evidence=record.policy.refuse_offline_evidence,
        offline_evidence_reason=record.policy.offline_evidence_reason,
        evidence_age_days=(facts.now - facts.oldest_evidence).days if facts.oldest_evidence else None,
        evidence_max_age_days=record.policy.evidence_max_age_days,
        approvals=tuple(sorted(record.approvers)),
        required_approvals=record.policy.required_approvals,
        may_still_approve=may_approve,
        revalidation_due_at=record.release.revalidation_due_at,
        changes_requested=facts.changes_requested,
    )


def release_checklists(session: Session, records: list[ReleaseRecord]) -> dict[int, ReleaseChecklist]:
    """The checklists of many gathered releases; the reviewers are read once for all of them."""
    reviewers = repository.active_reviewers(session)
    now = utcnow()
    return {record.release.id: checklist_of(record, reviewers, now) for record in records}


# --- why it changed -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeNote:
    """One component version behind a release: what, by whom, when, and the author's message."""

    kind: str
    name: str
    number: int
    author: str
    message: str
    created_at: datetime


def change_notes(session: Session, record: ReleaseRecord) -> list[ChangeNote]:
    """Every version between the release it is compared with and this one, with its author's message, newest
    first."""
    keys = changed_versions(record.release, record.product, baseline_of(session, record))
    notes = repository.version_notes(session, keys)
    found = [
        ChangeNote(key.kind, key.name, key.number, note.author, note.message, note.created_at)
        for key in keys
        if (note := notes.get(key)) is not None
    ]
    return sorted(found, key=lambda n: n.created_at, reverse=True)


def superseded_by_id(session: Session, record: ReleaseRecord) -> int | None:
    """The id of the release that superseded this one, where one did."""
    if record.superseded_by is None:
        return None
    ids = repository.release_ids_by_number(session, record.product.id, [record.superseded_by])
    return ids.get(record.superseded_by)
