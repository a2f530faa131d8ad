"""What callers get back about releases and runs, built from the domain's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.catalog.models import Product
from governance.releases.manifests import manifest_changes
from governance.releases.models import Decision, Policy, Release, SignOff
from governance.releases.policies import policy_snapshot
from governance.review.facts import current_decisions, current_signoff, live_release
from governance.runs.execution import current_runs
from governance.runs.models import CaseResultRow, Run, RunChunk


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


def recorded_counts(session: Session, run_ids: list[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    return dict(
        session.execute(
            select(CaseResultRow.run_id, func.count())
            .where(CaseResultRow.run_id.in_(run_ids))
            .group_by(CaseResultRow.run_id)
        ).all()
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


def _held_by(
    release: Release, runs: list[Run], approvals: int, policy: Policy, decisions: list[Decision], newer: Release | None
) -> str:
    state = release.state
    if state == "testing":
        done = sum(1 for r in runs if r.finished_at)
        return f"runs in progress: {done} of {len(runs)} suites finished"
    if state == "passed":
        return "every suite passed; waiting for the product owner's sign-off"
    if state == "failed":
        return (
            f"runs did not pass ({release.error}); the owner fixes and publishes, re-runs, or signs off with a waiver"
        )
    if state == "signed_off":
        return (
            f"signed off; waiting for approvals from independent reviewers: {approvals} of "
            f"{policy.required_approvals} ({policy.risk_tier} risk policy)"
        )
    if state == "approved":
        return "approved; waiting for the owner or an admin to take it live"
    if state == "live":
        return "live: this is what employees get"
    if state == "retired":
        return "retired: a later release went live"
    if state == "superseded":
        return f"superseded by release {newer.number}" if newer else "superseded by a newer change"
    rejection = next((d for d in reversed(decisions) if d.decision == "rejected"), None)
    return f"rejected by {rejection.reviewer}: {rejection.note}" if rejection else "rejected"


def release_view(session: Session, release: Release) -> ReleaseView:
    product = session.get(Product, release.product_id)
    policy = session.get(Policy, product.risk_tier)
    live = live_release(session, product.id)
    runs = current_runs(session, release.id)
    counts = recorded_counts(session, [r.id for r in runs])
    current_signoff_row = current_signoff(session, release)
    signoffs = list(session.scalars(select(SignOff).where(SignOff.release_id == release.id).order_by(SignOff.id)))
    all_decisions = list(
        session.scalars(select(Decision).where(Decision.release_id == release.id).order_by(Decision.id))
    )
    current = {d.id for d in current_decisions(session, release)}
    approvals = len({d.reviewer for d in all_decisions if d.id in current and d.decision == "approved"})
    newer = session.scalar(
        select(Release)
        .where(Release.product_id == product.id, Release.number > release.number)
        .order_by(Release.number)
        .limit(1)
    )
    base = live.manifest if live is not None and live.id != release.id else None
    return ReleaseView(
        **release_summary(release, product.slug).model_dump(),
        held_by=_held_by(release, runs, approvals, policy, all_decisions, newer),
        cycle=release.cycle,
        manifest=release.manifest,
        live_release=live.id if live else None,
        changes=manifest_changes(base, release.manifest) if live is None or live.id != release.id else [],
        runs=[run_summary(r, counts.get(r.id, 0)) for r in runs],
        signoffs=[
            SignOffView(
                actor=s.actor,
                note=s.note,
                waiver=s.waiver,
                cycle=s.cycle,
                current=current_signoff_row is not None and s.id == current_signoff_row.id,
                created_at=s.created_at,
            )
            for s in signoffs
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
            for d in all_decisions
        ],
        approvals=approvals,
        required_approvals=policy.required_approvals,
        policy=policy_snapshot(policy),
    )


def run_chunks_progress(session: Session, run_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(RunChunk.state, func.count()).where(RunChunk.run_id == run_id).group_by(RunChunk.state)
        ).all()
    )
