"""Which decisions a user may take on a release right now, and why not the others.

The decision functions in ``governance.decisions`` are the authority: they refuse with ``Forbidden`` or
``Conflict``. The web app must show buttons for exactly the actions those functions would accept, so this
module mirrors their rules as small pure predicates over the facts of one release. Each predicate returns
``None`` when the action is allowed, or the reason it is not, in the same words the domain would use.
A test drives both sides over the same states to keep them in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog.models import Product
from governance.kernel.db import utcnow
from governance.releases.models import Policy, Release, ReleaseState
from governance.releases.workflow import ALLOWED
from governance.review.facts import changed_authors, current_decisions, current_signoff
from governance.runs.execution import current_runs

SIGN_OFF = "sign_off"


WAIVE = "waive"


APPROVE = "approve"


REJECT = "reject"


GO_LIVE = "go_live"


RERUN = "rerun"


ACTIONS = (SIGN_OFF, WAIVE, APPROVE, REJECT, GO_LIVE, RERUN)


RERUNNABLE = frozenset({ReleaseState.testing, ReleaseState.passed, ReleaseState.failed, ReleaseState.signed_off})


@dataclass(frozen=True)
class ReleaseFacts:
    """What the rules look at, gathered once per release so every predicate stays pure."""

    state: str
    release_id: int
    product_slug: str
    owner_id: int
    owner_name: str
    authors: dict[str, list[str]]
    deciders: frozenset[str]
    approvals: int
    required_approvals: int
    signed_off: bool
    oldest_evidence: datetime | None
    evidence_max_age_days: int
    risk_tier: str
    has_runs: bool = True


def sign_off_refusal(user: User, facts: ReleaseFacts) -> str | None:
    if user.id != facts.owner_id:
        return f"only the owner of '{facts.product_slug}' ({facts.owner_name}) signs off its releases"
    if facts.state != ReleaseState.passed.value:
        return f"release {facts.release_id} is {facts.state}; only a release whose runs passed is signed off"
    return None


def waive_refusal(user: User, facts: ReleaseFacts) -> str | None:
    if user.id != facts.owner_id:
        return f"only the owner of '{facts.product_slug}' ({facts.owner_name}) signs off its releases"
    if facts.state != ReleaseState.failed.value:
        return f"release {facts.release_id} is {facts.state}; a waiver is for a release whose runs failed"
    return None


def independence_refusal(user: User, facts: ReleaseFacts) -> str | None:
    """The four-eyes rule: a reviewer who neither owns the product nor wrote what changed."""
    if not user.has_role(Role.reviewer):
        return f"deciding on a release requires the role reviewer; {user.name} has {', '.join(user.roles) or 'none'}"
    if user.id == facts.owner_id:
        return f"{user.name} owns '{facts.product_slug}': an owner never reviews their own product"
    authored = facts.authors.get(user.name)
    if authored:
        return (
            f"{user.name} authored what this release changes ({', '.join(authored)}): "
            "the approver must not be an author of the change"
        )
    return None


def approve_refusal(user: User, facts: ReleaseFacts, now: datetime) -> str | None:
    refusal = independence_refusal(user, facts)
    if refusal:
        return refusal
    if facts.state != ReleaseState.signed_off.value:
        return f"release {facts.release_id} is {facts.state}; only a signed-off release can be approved"
    if facts.oldest_evidence is not None and now - facts.oldest_evidence > timedelta(days=facts.evidence_max_age_days):
        return (
            f"the evidence is from {facts.oldest_evidence:%Y-%m-%d}, older than the {facts.risk_tier} policy's "
            f"{facts.evidence_max_age_days} days: re-run the suites before approving"
        )
    if user.name in facts.deciders:
        return f"{user.name} has already decided on release {facts.release_id}"
    return None


def reject_refusal(user: User, facts: ReleaseFacts) -> str | None:
    refusal = independence_refusal(user, facts)
    if refusal:
        return refusal
    if ReleaseState.rejected not in ALLOWED[ReleaseState(facts.state)]:
        return f"release {facts.release_id} is {facts.state}; it can no longer be rejected"
    return None


def go_live_refusal(user: User, facts: ReleaseFacts) -> str | None:
    if not (user.has_role(Role.admin) or user.id == facts.owner_id):
        return f"taking a release live is for the owner of '{facts.product_slug}' ({facts.owner_name}) or an admin"
    if facts.state != ReleaseState.approved.value:
        return f"release {facts.release_id} is {facts.state}; only an approved release can go live"
    if not facts.signed_off or facts.approvals < facts.required_approvals:
        return f"release {facts.release_id} lacks a current sign-off or {facts.required_approvals} approvals"
    return None


def rerun_refusal(user: User, facts: ReleaseFacts) -> str | None:
    if not (user.id == facts.owner_id or user.has_role(Role.admin) or user.has_role(Role.ci)):
        return f"re-running is for the owner of '{facts.product_slug}' ({facts.owner_name}), an admin or ci"
    if ReleaseState(facts.state) not in RERUNNABLE:
        return f"release {facts.release_id} is {facts.state}; only a release still on its way can be re-run"
    if not facts.has_runs:
        return f"release {facts.release_id} has no runs to repeat"
    return None


def release_facts(session: Session, release: Release) -> ReleaseFacts:
    """Read what the predicates need, with the same queries the decision functions run."""
    product = session.get(Product, release.product_id)
    policy = session.get(Policy, product.risk_tier)
    decisions = current_decisions(session, release)
    runs = current_runs(session, release.id)
    return ReleaseFacts(
        state=release.state,
        release_id=release.id,
        product_slug=product.slug,
        owner_id=product.owner_id,
        owner_name=product.owner.name,
        authors=changed_authors(session, release, product),
        deciders=frozenset(d.reviewer for d in decisions),
        approvals=len({d.reviewer for d in decisions if d.decision == "approved"}),
        required_approvals=policy.required_approvals,
        signed_off=current_signoff(session, release) is not None,
        oldest_evidence=min((r.finished_at for r in runs if r.finished_at), default=None),
        evidence_max_age_days=policy.evidence_max_age_days,
        risk_tier=policy.risk_tier,
        has_runs=bool(runs),
    )


def action_refusals(user: User, facts: ReleaseFacts, *, now: datetime | None = None) -> dict[str, str | None]:
    """Each action mapped to ``None`` (allowed now) or the reason it is not."""
    now = now or utcnow()
    return {
        SIGN_OFF: sign_off_refusal(user, facts),
        WAIVE: waive_refusal(user, facts),
        APPROVE: approve_refusal(user, facts, now),
        REJECT: reject_refusal(user, facts),
        GO_LIVE: go_live_refusal(user, facts),
        RERUN: rerun_refusal(user, facts),
    }


def allowed_actions(session: Session, user: User, release: Release) -> set[str]:
    """The decisions ``user`` may take on ``release`` now: exactly those the decision functions would accept."""
    refusals = action_refusals(user, release_facts(session, release))
    return {action for action, refusal in refusals.items() if refusal is None}
