"""The runs of a release as evidence: pass rate against threshold, and regressions against the live release.

A regression is a case execution that passed in the live release's run of the same suite and does not pass
now. Regressions come first, then other failures, then passes, so a reviewer reads what matters before
the long tail of green cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evals import CaseResult
from governance.kernel.unit_of_work import UnitOfWork
from governance.review.repository import recorded_counts
from governance.review.views import ReleaseView, RunSummaryView, run_summary
from governance.runs.execution import current_runs
from governance.runs.repository import case_results_page

if TYPE_CHECKING:
    from governance.runs.models import Run

# A run's page shows this many case executions; the API pages through the rest.
CASE_LIMIT = 500


@dataclass
class CaseView:
    result: CaseResult
    regression: bool = False
    live_outcome: str | None = None

    @property
    def label(self) -> str:
        repeat = f" (repeat {self.result.repeat_index + 1})" if self.result.repeat_index else ""
        return f"{self.result.case_id}{repeat}"


@dataclass
class RunEvidence:
    run: RunSummaryView
    cases: list[CaseView] = field(default_factory=list)
    more_cases: bool = False
    live: RunSummaryView | None = None

    @property
    def regressions(self) -> int:
        return sum(1 for case in self.cases if case.regression)

    @property
    def not_passed(self) -> int:
        return sum(1 for case in self.cases if case.result.outcome != "passed")

    @property
    def meets_threshold(self) -> bool | None:
        if self.run.pass_rate is None or self.run.threshold is None:
            return None
        return self.run.pass_rate >= self.run.threshold

    @property
    def progress(self) -> str:
        return f"{self.run.recorded} of {self.run.planned} case executions recorded"


def _cases(session: UnitOfWork, run_id: int) -> tuple[list[CaseResult], bool]:
    rows = case_results_page(session, run_id, after_id=0, limit=CASE_LIMIT + 1)
    return [CaseResult.model_validate(row.result) for row in rows[:CASE_LIMIT]], len(rows) > CASE_LIMIT


def _live_runs(session: UnitOfWork, view: ReleaseView) -> dict[str, Run]:
    if view.live_release is None or view.live_release == view.id:
        return {}
    return {run.suite_name: run for run in current_runs(session, view.live_release)}


def run_evidence(session: UnitOfWork, view: ReleaseView, *, with_cases: bool = True) -> list[RunEvidence]:
    """Each current run of the release with its cases and the live release's run of the same suite."""
    live_runs = _live_runs(session, view)
    live_counts = recorded_counts(session, [run.id for run in live_runs.values()])
    evidence: list[RunEvidence] = []
    for run in view.runs:
        item = RunEvidence(run=run)
        live = live_runs.get(run.suite)
        if live is not None:
            item.live = run_summary(live, live_counts.get(live.id, 0))
        if with_cases:
            results, item.more_cases = _cases(session, run.id)
            before: dict[tuple[str, int], str] = {}
            if live is not None:
                before = {(r.case_id, r.repeat_index): r.outcome for r in _cases(session, live.id)[0]}
            for result in results:
                was = before.get((result.case_id, result.repeat_index))
                item.cases.append(
                    CaseView(result=result, live_outcome=was, regression=was == "passed" and result.outcome != "passed")
                )
            rank = {"passed": 2}
            item.cases.sort(key=lambda c: (not c.regression, rank.get(c.result.outcome, 1), c.label))
        evidence.append(item)
    evidence.sort(key=lambda e: (-e.regressions, e.meets_threshold is not False, e.run.suite))
    return evidence
