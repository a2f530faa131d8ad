"""Decisions on a release: the owner's sign-off (or waiver), reviewers' approvals and rejections, go-live, re-runs.

Every decision locks the release row first, so two decisions on one release, or a decision racing a
publish that supersedes it, are serialised: the second sees the state the first left."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.permissions import require_role
from governance.accounts.roles import Role
from governance.audit.trail import begin_write, record_event
from governance.catalog.models import Product
from governance.catalog.permissions import require_product_manager
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from governance.kernel.fields import Text
from governance.releases.cutting import get_release
from governance.releases.models import Decision, Policy, Release, ReleaseState, SignOff
from governance.releases.workflow import transition
from governance.review.facts import changed_authors, current_decisions, current_signoff, live_release
from governance.runs.execution import cancel_queued_work, current_runs, ensure_rerunnable
from governance.runs.models import Run, RunChunk
from governance.runs.queueing import note_queued


class SignOffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", max_length=5000, description="What the owner checked.")
    waiver: Text | None = Field(
        default=None, max_length=10_000, description="Required on a failed release: why it may go ahead anyway."
    )

    @field_validator("waiver")
    @classmethod
    def _a_real_justification(cls, value: str | None) -> str | None:
        if value is None:
            return None
        words = value.split()
        if len(value.strip()) < 20 or len(words) < 4:
            raise ValueError("a waiver must justify itself in at least one full sentence (4+ words, 20+ characters)")
        return value.strip()


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", max_length=5000, description="What the reviewer checked.")


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=5000, description="Why the release may not go live.")


def _context(session: Session, release_id: int) -> tuple[Release, Product, Policy]:
    begin_write(session)
    release = get_release(session, release_id, for_update=True)
    product = session.get(Product, release.product_id)
    return release, product, session.get(Policy, product.risk_tier)


def sign_off(session: Session, actor: User, release_id: int, data: SignOffRequest) -> Release:
    release, product, _policy = _context(session, release_id)
    if product.owner_id != actor.id:
        raise Forbidden(f"only the owner of '{product.slug}' ({product.owner.name}) signs off its releases")
    if release.state == ReleaseState.failed.value and not data.waiver:
        raise Conflict(
            f"release {release.id} failed its runs ({release.error}); signing it off needs a written waiver",
            field="waiver",
        )
    if release.state == ReleaseState.passed.value and data.waiver:
        raise Invalid("a waiver is for a failed release; this one passed", field="waiver")
    transition(
        session,
        release,
        ReleaseState.signed_off,
        actor=actor,
        action="release.signed_off",
        product_slug=product.slug,
        reason=data.waiver or data.note,
        details={"waiver": data.waiver, "note": data.note},
    )
    session.add(
        SignOff(
            release_id=release.id,
            manifest_hash=release.manifest_hash,
            cycle=release.cycle,
            actor=actor.name,
            note=data.note,
            waiver=data.waiver,
        )
    )
    session.flush()
    return release


def _require_independent_reviewer(session: Session, actor: User, release: Release, product: Product, action: str):
    require_role(actor, Role.reviewer, action=action)
    if product.owner_id == actor.id:
        raise Forbidden(f"{actor.name} owns '{product.slug}': an owner never reviews their own product")
    authored = changed_authors(session, release, product).get(actor.name)
    if authored:
        raise Forbidden(
            f"{actor.name} authored what this release changes ({', '.join(authored)}): "
            "the approver must not be an author of the change"
        )


def _record_decision(session: Session, release: Release, reviewer: User, decision: str, note: str) -> None:
    """A reviewer's decision, bound to the manifest and cycle it was given on."""
    session.add(
        Decision(
            release_id=release.id,
            manifest_hash=release.manifest_hash,
            cycle=release.cycle,
            reviewer=reviewer.name,
            decision=decision,
            note=note,
        )
    )
    session.flush()


def approve(session: Session, actor: User, release_id: int, data: ApproveRequest) -> Release:
    release, product, policy = _context(session, release_id)
    _require_independent_reviewer(session, actor, release, product, "approving a release")
    if release.state != ReleaseState.signed_off.value:
        raise Conflict(
            f"release {release.id} is {release.state}; only a signed-off release can be approved", field="state"
        )
    runs = current_runs(session, release.id)
    oldest = min((r.finished_at for r in runs if r.finished_at), default=None)
    max_age = timedelta(days=policy.evidence_max_age_days)
    if oldest is not None and utcnow() - oldest > max_age:
        raise Conflict(
            f"the evidence is from {oldest:%Y-%m-%d}, older than the {policy.risk_tier} policy's "
            f"{policy.evidence_max_age_days} days: re-run the suites before approving",
            field="evidence",
        )
    decisions = current_decisions(session, release)
    if any(d.reviewer == actor.name for d in decisions):
        raise Conflict(f"{actor.name} has already decided on release {release.id}", field="reviewer")
    _record_decision(session, release, actor, "approved", data.note)
    approvals = len({d.reviewer for d in decisions if d.decision == "approved"} | {actor.name})
    details = {"approvals": approvals, "required": policy.required_approvals, "note": data.note}
    if approvals >= policy.required_approvals:
        transition(
            session,
            release,
            ReleaseState.approved,
            actor=actor,
            action="release.approved",
            product_slug=product.slug,
            reason=data.note,
            details=details,
        )
    else:
        record_event(
            session,
            actor=actor,
            action="release.approval_recorded",
            subject_type="release",
            subject=f"{product.slug}#{release.number}",
            product_slug=product.slug,
            after={"release_id": release.id, "state": release.state, **details},
            reason=data.note,
        )
    return release


def reject(session: Session, actor: User, release_id: int, data: RejectRequest) -> Release:
    release, product, _policy = _context(session, release_id)
    _require_independent_reviewer(session, actor, release, product, "rejecting a release")
    cancel_queued_work(session, [release.id])
    transition(
        session,
        release,
        ReleaseState.rejected,
        actor=actor,
        action="release.rejected",
        product_slug=product.slug,
        reason=data.reason,
    )
    _record_decision(session, release, actor, "rejected", data.reason)
    return release


def go_live(session: Session, actor: User, release_id: int) -> Release:
    release, product, policy = _context(session, release_id)
    require_product_manager(actor, product, action="taking a release live")
    if release.state != ReleaseState.approved.value:
        raise Conflict(f"release {release.id} is {release.state}; only an approved release can go live", field="state")
    # Re-check the four-eyes rule at the last gate, so no path around it can reach employees.
    approvals = {d.reviewer for d in current_decisions(session, release) if d.decision == "approved"}
    if current_signoff(session, release) is None or len(approvals) < policy.required_approvals:
        raise Conflict(
            f"release {release.id} lacks a current sign-off or {policy.required_approvals} approvals", field="state"
        )
    previous = live_release(session, product.id)
    if previous is not None:
        transition(
            session,
            previous,
            ReleaseState.retired,
            actor=actor,
            action="release.retired",
            product_slug=product.slug,
            reason=f"release {release.number} went live",
        )
    transition(session, release, ReleaseState.live, actor=actor, action="release.live", product_slug=product.slug)
    return release


def rerun(session: Session, actor: User, run_id: int) -> Run:
    """Run a run's suite again against the same manifest; the release goes back to testing in a new cycle."""
    old = session.get(Run, run_id)
    if old is None:
        raise NotFound(f"no run with id {run_id}", field="id")
    release, product, _policy = _context(session, old.release_id)
    if not (product.owner_id == actor.id or actor.has_role(Role.admin) or actor.has_role(Role.ci)):
        raise Forbidden(f"re-running is for the owner of '{product.slug}' ({product.owner.name}), an admin or ci")
    ensure_rerunnable(release)
    run = Run(
        release_id=release.id,
        suite_name=old.suite_name,
        suite_version=old.suite_version,
        manifest_hash=old.manifest_hash,
        provider=old.provider,
        offline=old.offline,
        planned=old.planned,
        attempt=old.attempt + 1,
        created_by=actor.name,
    )
    session.add(run)
    session.flush()
    chunks = [
        RunChunk(run_id=run.id, index=c.index, case_ids=c.case_ids)
        for c in session.scalars(select(RunChunk).where(RunChunk.run_id == old.id).order_by(RunChunk.index))
    ]
    session.add_all(chunks)
    session.flush()
    note_queued(session, [c.id for c in chunks])
    if release.state != ReleaseState.testing.value:
        release.cycle += 1
        transition(
            session,
            release,
            ReleaseState.testing,
            actor=actor,
            action="release.retesting",
            product_slug=product.slug,
            reason=f"re-run of suite '{old.suite_name}'",
            details={"cycle": release.cycle, "run_id": run.id},
        )
    else:
        record_event(
            session,
            actor=actor,
            action="run.rerun_queued",
            subject_type="run",
            subject=f"{product.slug}#{release.number}/{old.suite_name}",
            product_slug=product.slug,
            after={"run_id": run.id, "replaces": old.id},
        )
    return run


def rerun_release(session: Session, actor: User, release_id: int) -> list[Run]:
    """Run every suite of a release again (fresh evidence, e.g. after it aged past the policy's limit)."""
    release, _product, _policy = _context(session, release_id)
    runs = current_runs(session, release.id)
    if not runs:
        raise Conflict(
            f"release {release.id} has no runs to repeat ({release.error or 'it has no suites'})", field="state"
        )
    return [rerun(session, actor, run.id) for run in runs]
