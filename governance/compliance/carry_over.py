"""Editorial changes, by policy: a release whose every change is editorial may carry over the live release's
sign-off and approvals once its suites pass (a pre-determined change, AI Act recital 128).

Only when the policy of the product's tier sets ``editorial_carry_over`` (off by default); never for a change to
a suite, the model or the links; never when the live sign-off's author no longer owns the product, when fewer
approvals than the policy asks exist, or when an approver wrote part of the change (four eyes still hold). The
carry-over is audited as ``release.carried_over`` with the rule and the diff.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from governance.audit.events import AuditRecorded
from governance.audit.trail import record_event
from governance.catalog import repository as catalog_repo
from governance.catalog.content import unified_diff
from governance.catalog.models import ComponentKind, Product
from governance.compliance import repository
from governance.compliance.editorial import RULE, is_editorial
from governance.kernel.events import subscribe
from governance.releases import repository as releases_repo
from governance.releases.manifests import manifest_changes
from governance.releases.models import Decision, Release, ReleaseState, SignOff
from governance.releases.policies import get_policy
from governance.releases.workflow import transition

EDITORIAL_KINDS = frozenset({"document", "prompt", "process"})


@subscribe(AuditRecorded)
def on_release_passed(session: Session, recorded: AuditRecorded) -> None:
    event = recorded.event
    release_id = (event.after or {}).get("release_id")
    if event.action != "release.passed" or not isinstance(release_id, int):
        return
    release = releases_repo.release_by_id(session, release_id)
    if release is not None:
        carry_over(session, release)


def _editorial_diffs(session: Session, product: Product, live: Release, release: Release) -> list[str] | None:
    """The diff of every change if all of them are editorial, else None."""
    changes = manifest_changes(live.manifest, release.manifest)
    if not changes:
        return None
    diffs = []
    for change in changes:
        if change["kind"] not in EDITORIAL_KINDS or change["change"] != "changed":
            return None
        kind = ComponentKind(change["kind"])
        owner = product.id if kind.owned_by_product else None
        old = catalog_repo.version_of(session, kind, change["name"], change["from_version"], owner)
        new = catalog_repo.version_of(session, kind, change["name"], change["to_version"], owner)
        if not is_editorial(kind.value, old.content, new.content):
            return None
        diffs.append(unified_diff(kind, change["name"], (old.number, old.content), (new.number, new.content)))
    return diffs


def _authors(session: Session, product: Product, live: Release, release: Release) -> set[str]:
    authors: set[str] = set()
    for change in manifest_changes(live.manifest, release.manifest):
        low, high = sorted((change["from_version"], change["to_version"]))
        owner = product.id if ComponentKind(change["kind"]).owned_by_product else None
        authors |= repository.authors_between(session, change["kind"], change["name"], owner, low + 1, high)
    return authors


def carry_over(session: Session, release: Release) -> bool:
    """Carry the live release's sign-off and approvals over to ``release`` if the policy and the change allow it."""
    product = catalog_repo.get_product_by_id(session, release.product_id)
    policy = get_policy(session, product.risk_tier)
    live = repository.live_release(session, product.id)
    if not policy.editorial_carry_over or live is None or release.state != ReleaseState.passed.value:
        return False
    diffs = _editorial_diffs(session, product, live, release)
    if diffs is None:
        return False
    signoffs, approvals = repository.current_signoffs_and_approvals(session, live)
    signoff = next((s for s in reversed(signoffs) if s.actor == product.owner.name and s.waiver is None), None)
    approvers = sorted({d.reviewer for d in approvals} - _authors(session, product, live, release))
    if signoff is None or len(approvers) < policy.required_approvals:
        return False
    note = f"carried over from release {live.number}: an editorial change ({RULE})"
    details: dict[str, Any] = {"carried_from": live.number, "rule": RULE}
    session.add(
        SignOff(
            release_id=release.id,
            manifest_hash=release.manifest_hash,
            cycle=release.cycle,
            actor=signoff.actor,
            note=note,
        )
    )
    transition(
        session,
        release,
        ReleaseState.signed_off,
        actor="system",
        action="release.signed_off",
        product_slug=product.slug,
        reason=note,
        details=details,
    )
    for reviewer in approvers:
        session.add(
            Decision(
                release_id=release.id,
                manifest_hash=release.manifest_hash,
                cycle=release.cycle,
                reviewer=reviewer,
                decision="approved",
                note=note,
            )
        )
    transition(
        session,
        release,
        ReleaseState.approved,
        actor="system",
        action="release.approved",
        product_slug=product.slug,
        reason=note,
        details=details,
    )
    record_event(
        session,
        actor="system",
        action="release.carried_over",
        subject_type="release",
        subject=f"{product.slug}#{release.number}",
        product_slug=product.slug,
        before={"live_release": live.number, "signed_off_by": signoff.actor, "approved_by": approvers},
        after={"release_id": release.id, "rule": RULE, "diff": "".join(diffs)},
        reason=note,
    )
    return True
