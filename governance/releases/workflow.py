"""The release state machine as data: the allowed transitions, and the one function that moves a release."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import record_event
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict
from governance.releases.models import Release, ReleaseState

S = ReleaseState


ALLOWED: dict[ReleaseState, frozenset[ReleaseState]] = {
    S.testing: frozenset({S.passed, S.failed, S.superseded, S.rejected}),
    # A re-run sends a release back to testing; its earlier sign-off and approvals belong to the old cycle.
    S.passed: frozenset({S.signed_off, S.testing, S.superseded, S.rejected}),
    S.failed: frozenset({S.signed_off, S.testing, S.superseded, S.rejected}),
    # A hand-over of the product voids the sign-off: the release waits for the new owner's (passed, or failed
    # when it was signed off with a waiver).
    S.signed_off: frozenset({S.approved, S.testing, S.superseded, S.rejected, S.passed, S.failed}),
    S.approved: frozenset({S.live, S.superseded, S.rejected, S.passed, S.failed}),
    S.live: frozenset({S.retired}),
    S.retired: frozenset(),
    S.superseded: frozenset(),
    S.rejected: frozenset(),
}


class IllegalTransition(Conflict):
    title = "Illegal release transition"


def transition_refusal(
    release_number: int, product_slug: str, current: ReleaseState, to: ReleaseState, action: str = ""
) -> str | None:
    """Why the table refuses moving a release from ``current`` to ``to``, or None when it allows it (the release
    named by its number within the product, as people quote it)."""
    if to in ALLOWED[current]:
        return None
    return f"release {release_number} of '{product_slug}' is {current.value}; it cannot become {to.value}" + (
        f" ({action})" if action else ""
    )


def transition(
    session: Session,
    release: Release,
    to: ReleaseState,
    *,
    actor: User | str,
    action: str,
    product_slug: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
    flush: bool = True,
) -> None:
    """Move ``release`` to ``to`` and write its one audit event, or refuse with a 409 naming the state.

    ``flush=False`` leaves the state change to the caller's next flush, for batches (a publish that supersedes
    a thousand releases flushes them together).
    """
    current = ReleaseState(release.state)
    refusal = transition_refusal(release.number, product_slug, current, to, action)
    if refusal is not None:
        raise IllegalTransition(refusal, field="state")
    release.state = to
    release.state_changed_at = utcnow()
    if flush:
        session.flush()
    record_event(
        session,
        actor=actor,
        action=action,
        subject_type="release",
        subject=f"{product_slug}#{release.number}",
        product_slug=product_slug,
        before={"state": current.value},
        after={"state": to.value, "release_id": release.id, "manifest_hash": release.manifest_hash, **(details or {})},
        reason=reason,
    )
