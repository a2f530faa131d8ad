"""What callers get back about releases and runs, built from the domain's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from governance.releases.manifests import manifest_changes
from governance.releases.models import Release
from governance.releases.policies import policy_snapshot
from governance.review import repository
from governance.review.facts import ReleaseRecord, facts_of, gather
from governance.review.rules import held_by
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
    id: int
    product: str
    number: int
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
    live_release: int | None
    changes: list[dict[str, Any]] = Field(description="What differs from the live release, component by component.")
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


def release_view_of(session: Session, record: ReleaseRecord) -> ReleaseView:
    """The view of a release whose record is already gathered (a page that also asks the rules reads it once)."""
    release, product, policy, live = record.release, record.product, record.policy, record.live
    counts = repository.recorded_counts(session, [r.id for r in record.runs])
    signoff = record.current_signoff
    current = {d.id for d in record.current_decisions}
    is_live = live is not None and live.id == release.id
    return ReleaseView(
        **release_summary(release, product.slug).model_dump(),
        held_by=held_by(facts_of(record)),
        cycle=release.cycle,
        manifest=release.manifest,
        live_release=live.id if live else None,
        changes=[] if is_live else manifest_changes(live.manifest if live else None, release.manifest),
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
