"""Settling a re-certification once its runs have finished: compare with the evidence the release went live on.

A regression is a case execution that passed in the live release's evidence and does not pass now (the same
definition reviewers read on a release's page). A regression cuts a release of the unchanged manifest, so the
product becomes ``revalidation_required`` and goes through tests, sign-off and approval again; the failing cases
are named in that release's cause, the audit trail and the webhook.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from governance.audit.events import AuditRecorded
from governance.audit.trail import record_event
from governance.catalog import repository as products_repo
from governance.kernel.db import utcnow
from governance.kernel.events import subscribe
from governance.recertification import repository as repo
from governance.recertification.models import Recertification, RecertificationState
from governance.releases.cutting import cut_releases
from governance.releases.models import ReleaseState
from governance.releases.reading import get_release
from governance.runs.execution import current_runs
from governance.runs.models import FINISHED_RUN_STATES, RunState
from governance.runs.repository import runs_by_ids

# Failing cases named in the cut release's cause and the audit event; all of them stay on the recertification.
CAUSE_CASES = 20


@subscribe(AuditRecorded)
def on_run_finished(session: Session, recorded: AuditRecorded) -> None:
    event = recorded.event
    if not event.action.startswith("run.") or not isinstance((event.after or {}).get("run_id"), int):
        return
    run_id = event.after["run_id"]  # type: ignore[index]
    for recertification in repo.running(session):
        if run_id in recertification.run_ids:
            settle(session, recertification.id)


def settle_finished(session: Session) -> list[Recertification]:
    """Settle every running re-certification whose runs have all finished (the scheduler's safety net)."""
    return [item for item in (settle(session, r.id) for r in repo.running(session)) if item is not None]


def _failing_cases(session: Session, recertification: Recertification) -> list[dict[str, Any]]:
    baseline = {run.suite_name: run for run in current_runs(session, recertification.release_id)}
    failing = []
    for run in runs_by_ids(session, recertification.run_ids):
        before = baseline.get(run.suite_name)
        if before is None:
            continue
        now = repo.outcomes(session, run.id)
        for (case_id, repeat), outcome in sorted(repo.outcomes(session, before.id).items()):
            if outcome != "passed":
                continue
            current = now.get((case_id, repeat), "not run")
            if current != "passed":
                failing.append(
                    {"suite": run.suite_name, "case_id": case_id, "repeat_index": repeat, "outcome": current}
                )
    return failing


def settle(session: Session, recertification_id: int) -> Recertification | None:
    """Compare a finished re-certification with the release's evidence; None while runs are still going."""
    recertification = repo.lock(session, recertification_id)
    if recertification.state != RecertificationState.running:
        return recertification
    runs = runs_by_ids(session, recertification.run_ids)
    if any(RunState(run.state) not in FINISHED_RUN_STATES for run in runs):
        return None
    release = get_release(session, recertification.release_id)
    product = products_repo.get_product_by_id(session, recertification.product_id)
    failing = _failing_cases(session, recertification)
    recertification.failing_cases = failing
    recertification.finished_at = utcnow()
    named = [f"{case['suite']}/{case['case_id']}" for case in failing[:CAUSE_CASES]]
    if not failing:
        recertification.state = RecertificationState.held
        session.flush()
        record_event(
            session,
            actor="system",
            action="recertification.held",
            subject_type="release",
            subject=f"{product.slug}#{release.number}",
            product_slug=product.slug,
            after={"release_id": release.id, "recertification_id": recertification.id},
        )
        return recertification
    recertification.state = RecertificationState.regressed
    if release.state == ReleaseState.live.value and not repo.has_open_release(session, product.id):
        # Nothing is on its way already: a release of the same manifest makes the product revalidation_required.
        # (A release retired meanwhile, or a change already on its way, is revalidated by that change instead.)
        cause = {"kind": "recertification", "recertification_id": recertification.id, "failing_cases": named}
        cut = cut_releases(session, "system", [product], cause, force=True)
        recertification.cut_release_id = cut[0].id if cut else None
    session.flush()
    record_event(
        session,
        actor="system",
        action="recertification.regressed",
        subject_type="release",
        subject=f"{product.slug}#{release.number}",
        product_slug=product.slug,
        after={
            "release_id": release.id,
            "recertification_id": recertification.id,
            "failing_cases": named,
            "failing": len(failing),
            "cut_release_id": recertification.cut_release_id,
        },
        reason=f"{len(failing)} case executions that passed when release {release.number} went live fail now: "
        + ", ".join(named[:5]),
    )
    return recertification
