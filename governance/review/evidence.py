"""The runs of a release as evidence: pass rate against threshold, and regressions against the live release.

A regression is a case execution that passed in the live release's run of the same suite and does not pass
now; it carries the live answer so both can be read side by side. Regressions come first, then other
failures, then passes, so a reviewer reads what matters before the long tail of green cases. Each case
carries what its suite says of it (description, tags, required), and each run the system prompt its cases
share, so a page shows it once rather than once per case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evals import CaseResult
from evals.results import ChatMessage
from governance.kernel.unit_of_work import UnitOfWork
from governance.review.repository import recorded_counts
from governance.review.views import ReleaseView, RunSummaryView, run_summary
from governance.runs.execution import current_runs
from governance.runs.queueing import suite_specs
from governance.runs.repository import case_results_page

if TYPE_CHECKING:
    from governance.runs.models import Run

# A run's page shows this many case executions; the API pages through the rest.
CASE_LIMIT = 500


@dataclass(frozen=True)
class CaseInfo:
    """What the suite says of a case."""

    description: str = ""
    tags: tuple[str, ...] = ()
    required: bool = False


NO_INFO = CaseInfo()


@dataclass
class CaseView:
    result: CaseResult
    regression: bool = False
    live_outcome: str | None = None
    live_output: str | None = None
    info: CaseInfo = NO_INFO

    @property
    def passed(self) -> bool:
        return self.result.outcome == "passed"

    def messages_beside(self, system_prompt: str | None) -> list[ChatMessage]:
        """The case's input without the system prompt its run already shows."""
        return [m for m in self.result.messages if not (m.role == "system" and m.content == system_prompt)]

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
    system_prompt: str | None = None
    """The rendered system message the run's cases share (the first case's), shown once."""

    @property
    def not_passed_cases(self) -> list[CaseView]:
        return [case for case in self.cases if not case.passed]

    @property
    def passed_cases(self) -> list[CaseView]:
        return [case for case in self.cases if case.passed]

    @property
    def required_failures(self) -> list[str]:
        return list((self.run.summary or {}).get("required_failures") or [])

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


def _case_infos(session: UnitOfWork, view: ReleaseView, product_id: int | None) -> dict[str, dict[str, CaseInfo]]:
    if product_id is None or not view.runs:
        return {}
    specs = suite_specs(session, {(product_id, run.suite): run.suite_version for run in view.runs})
    return {
        name: {
            str(case["id"]): CaseInfo(
                description=str(case.get("description") or ""),
                tags=tuple(str(tag) for tag in case.get("tags") or ()),
                required=bool(case.get("required")),
            )
            for case in spec.get("cases", [])
        }
        for (_, name), spec in specs.items()
    }


def _shared_system_prompt(cases: list[CaseView]) -> str | None:
    for case in cases:
        for message in case.result.messages:
            if message.role == "system":
                return message.content
    return None


def run_evidence(
    session: UnitOfWork, view: ReleaseView, *, with_cases: bool = True, product_id: int | None = None
) -> list[RunEvidence]:
    """Each current run of the release with its cases and the live release's run of the same suite.

    With ``product_id`` each case also carries what its suite version says of it (description, tags, required).
    """
    infos = _case_infos(session, view, product_id) if with_cases else {}
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
            before: dict[tuple[str, int], CaseResult] = {}
            if live is not None:
                before = {(r.case_id, r.repeat_index): r for r in _cases(session, live.id)[0]}
            suite_info = infos.get(run.suite, {})
            for result in results:
                was = before.get((result.case_id, result.repeat_index))
                regression = was is not None and was.outcome == "passed" and result.outcome != "passed"
                item.cases.append(
                    CaseView(
                        result=result,
                        live_outcome=was.outcome if was else None,
                        live_output=was.output if was and regression else None,
                        regression=regression,
                        info=suite_info.get(result.case_id, NO_INFO),
                    )
                )
            rank = {"passed": 2}
            item.cases.sort(key=lambda c: (not c.regression, rank.get(c.result.outcome, 1), c.label))
            item.system_prompt = _shared_system_prompt(item.cases)
        evidence.append(item)
    evidence.sort(key=lambda e: (-e.regressions, e.meets_threshold is not False, e.run.suite))
    return evidence
