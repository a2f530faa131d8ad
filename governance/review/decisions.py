"""Decisions on a release: the owner's sign-off (or waiver), reviewers' approvals and rejections, go-live, re-runs.

Every decision locks the release row first, so two decisions on one release, or a decision racing a
publish that supersedes it, are serialised: the second sees the state the first left. Then it gathers the
release's facts and asks the table of rules (``governance.review.rules``) whether it may go ahead."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import begin_write, record_event
from governance.catalog.events import ProductOwnerChanged
from governance.kernel.errors import NotFound
from governance.kernel.events import publish, subscribe
from governance.kernel.fields import Text
from governance.releases.events import ReleaseWentLive
from governance.releases.models import Decision, Release, ReleaseState, SignOff
from governance.releases.reading import get_release
from governance.releases.workflow import transition
from governance.review import repository
from governance.review.facts import CHANGES_REQUESTED, ReleaseRecord, facts_of, gather, gather_many
from governance.review.rules import Action, require
from governance.runs.execution import cancel_queued_work
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


class ChangesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: Text = Field(min_length=3, max_length=5000, description="What the owner must change before approval.")


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=5000, description="Why the release may not go live.")


def _locked(session: Session, release_id: int, action: Action, actor: User) -> ReleaseRecord:
    """Lock the release (after the audit chain, as every writer does), gather its facts, and apply the rules."""
    begin_write(session)
    record = gather(session, get_release(session, release_id, for_update=True))
    require(action, facts_of(record), actor)
    return record


def sign_off(session: Session, actor: User, release_id: int, data: SignOffRequest) -> Release:
    """The owner states that a release is fit: one whose runs passed, or one that failed, with a waiver.

    Args:
        session: The unit of work; this only flushes.
        actor: The product's owner.
        release_id: The release to sign off.
        data: The owner's note, and the waiver a failed release needs.

    Returns:
        The release, now signed off on its current manifest and cycle.

    Raises:
        Forbidden, Conflict, Invalid: a rule of ``Action.sign_off`` (``Action.waive`` with a waiver) refused.
    """
    record = _locked(session, release_id, Action.waive if data.waiver else Action.sign_off, actor)
    release = record.release
    transition(
        session,
        release,
        ReleaseState.signed_off,
        actor=actor,
        action="release.signed_off",
        product_slug=record.product.slug,
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
    """An independent reviewer approves; the policy's number of approvals makes the release approved.

    Args:
        session: The unit of work; this only flushes.
        actor: A reviewer who neither owns the product nor wrote what the release changes.
        release_id: The signed-off release.
        data: What the reviewer checked.

    Returns:
        The release: approved once enough reviewers approved, still signed off before that.

    Raises:
        Forbidden, Conflict: a rule of ``Action.approve`` refused.
    """
    record = _locked(session, release_id, Action.approve, actor)
    release, product, policy = record.release, record.product, record.policy
    _record_decision(session, release, actor, "approved", data.note)
    approvals = len(record.approvers | {actor.name})
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
    """An independent reviewer rejects a release on its way; its queued runs are cancelled.

    Args:
        session: The unit of work; this only flushes.
        actor: A reviewer who neither owns the product nor wrote what the release changes.
        release_id: A release not yet live.
        data: Why it may not go live.

    Returns:
        The rejected release.

    Raises:
        Forbidden, Conflict: a rule of ``Action.reject`` refused.
    """
    record = _locked(session, release_id, Action.reject, actor)
    release = record.release
    cancel_queued_work(session, [release.id])
    transition(
        session,
        release,
        ReleaseState.rejected,
        actor=actor,
        action="release.rejected",
        product_slug=record.product.slug,
        reason=data.reason,
    )
    _record_decision(session, release, actor, "rejected", data.reason)
    return release


def request_changes(session: Session, actor: User, release_id: int, data: ChangesRequest) -> Release:
    """A reviewer sends a signed-off release back to its owner: the sign-off (and any approval resting on it) is
    void, the release stays open in a new cycle, failed if it was signed off with a waiver and passed otherwise.

    Args:
        session: The unit of work; this only flushes.
        actor: A reviewer who neither owns the product nor wrote what the release changes.
        release_id: A signed-off release.
        data: What the owner must change.

    Returns:
        The release, back with its owner.

    Raises:
        Forbidden, Conflict: a rule of ``Action.request_changes`` refused.
    """
    record = _locked(session, release_id, Action.request_changes, actor)
    release = record.release
    signoff = record.current_signoff
    back = ReleaseState.failed if signoff is not None and signoff.waiver else ReleaseState.passed
    _record_decision(session, release, actor, CHANGES_REQUESTED, data.changes)
    release.cycle += 1
    transition(
        session,
        release,
        back,
        actor=actor,
        action="release.changes_requested",
        product_slug=record.product.slug,
        reason=data.changes,
        details={"cycle": release.cycle, "owner": record.product.owner.name},
    )
    return release


def go_live(session: Session, actor: User, release_id: int) -> Release:
    """Take an approved release live; the release live before it is retired.

    Args:
        session: The unit of work; this only flushes.
        actor: The product's owner or an admin.
        release_id: An approved release with a current sign-off and the policy's number of approvals.

    Returns:
        The release, now live.

    Raises:
        Forbidden, Conflict: a rule of ``Action.go_live`` refused.
    """
    record = _locked(session, release_id, Action.go_live, actor)
    release, product = record.release, record.product
    if record.live is not None:
        transition(
            session,
            record.live,
            ReleaseState.retired,
            actor=actor,
            action="release.retired",
            product_slug=product.slug,
            reason=f"release {release.number} went live",
        )
    transition(session, release, ReleaseState.live, actor=actor, action="release.live", product_slug=product.slug)
    publish(session, ReleaseWentLive(actor, release, product))
    return release


def _repeat(session: Session, actor: User, record: ReleaseRecord, old: Run) -> Run:
    """Queue ``old``'s suite again on the same manifest; a release past testing goes back to it in a new cycle."""
    release, product = record.release, record.product
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
        RunChunk(run_id=run.id, index=c.index, case_ids=c.case_ids) for c in repository.chunks_of(session, old.id)
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


def rerun(session: Session, actor: User, run_id: int) -> Run:
    """Run a run's suite again against the same manifest; the release goes back to testing in a new cycle.

    Args:
        session: The unit of work; this only flushes.
        actor: Who asks (the rules of ``Action.rerun`` say who may).
        run_id: The run to repeat.

    Returns:
        The new, queued run.

    Raises:
        NotFound: there is no such run.
        Forbidden, Conflict: a rule of ``Action.rerun`` refused.
    """
    old = repository.get_run(session, run_id)
    if old is None:
        raise NotFound(f"no run with id {run_id}", field="id")
    record = _locked(session, old.release_id, Action.rerun, actor)
    return _repeat(session, actor, record, old)


def rerun_release(session: Session, actor: User, release_id: int) -> list[Run]:
    """Run every suite of a release again (fresh evidence, e.g. after it aged past the policy's limit).

    Args:
        session: The unit of work; this only flushes.
        actor: Who asks (the rules of ``Action.rerun`` say who may).
        release_id: A release still on its way, with runs to repeat.

    Returns:
        The new, queued runs, one per suite.

    Raises:
        Forbidden, Conflict: a rule of ``Action.rerun`` refused.
    """
    record = _locked(session, release_id, Action.rerun, actor)
    return [_repeat(session, actor, record, run) for run in record.runs]


@subscribe(ProductOwnerChanged)
def void_signoffs_of_handed_over_product(session: Session, event: ProductOwnerChanged) -> None:
    """A new owner answers for the product: sign-offs (and the approvals resting on them) of its open releases
    are void, and each release waits for the new owner's sign-off again, in a new cycle.

    A release signed off with a waiver goes back to failed, any other back to passed. Each voided sign-off gets
    its own audit event (``release.signoff_voided``) and each move its own (``release.signoff_required``).
    """
    product = event.product
    held = repository.open_releases_in(session, product.id, (ReleaseState.signed_off, ReleaseState.approved))
    for release, record in gather_many(session, held).items():
        signoff = record.current_signoff
        back = ReleaseState.failed if signoff is not None and signoff.waiver else ReleaseState.passed
        subject = f"{product.slug}#{record.release.number}"
        record_event(
            session,
            actor=event.actor,
            action="release.signoff_voided",
            subject_type="release",
            subject=subject,
            product_slug=product.slug,
            before={"signed_off_by": signoff.actor if signoff else None, "owner": event.before.name},
            after={"release_id": release, "owner": product.owner.name},
            reason=f"'{product.slug}' was handed from {event.before.name} to {product.owner.name}",
        )
        record.release.cycle += 1
        transition(
            session,
            record.release,
            back,
            actor=event.actor,
            action="release.signoff_required",
            product_slug=product.slug,
            reason=f"the new owner {product.owner.name} must sign off",
            details={"cycle": record.release.cycle, "owner": product.owner.name},
        )
