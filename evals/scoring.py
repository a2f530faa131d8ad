"""Turning assertion verdicts into case outcomes, and case results into a run's summary."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence

from evals.results import (
    AssertionResult,
    CaseRef,
    CaseResult,
    CaseSummary,
    CombinationSummary,
    Counts,
    Outcome,
    RunStatus,
    Summary,
    Totals,
)
from evals.suite import CaseFacts


def case_outcome(assertions: Sequence[AssertionResult], threshold: float | None) -> tuple[Outcome, float]:
    """A case's outcome and weighted score from its assertions, as promptfoo scores them.

    Any assertion error makes the case an error. The score is the weight-averaged assertion score.
    Without a case threshold every assertion of non-zero weight must pass; with one, the score must
    reach it. Weight-0 assertions are informational: reported, never decisive.
    """
    total_weight = 0.0
    weighted = 0.0
    all_passed = True
    for result in assertions:
        if result.outcome == "error":
            return "error", 0.0
        if result.weight > 0:
            total_weight += result.weight
            weighted += result.weight * result.score
            if result.outcome != "passed":
                all_passed = False
    score = weighted / total_weight if total_weight else 1.0
    passed = score >= threshold - 1e-9 if threshold is not None else all_passed
    return ("passed" if passed else "failed"), score


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = max(0, math.ceil(fraction * len(sorted_values)) - 1)
    return sorted_values[index]


class ResultTally:
    """What a run's summary needs from its results, kept as running counts instead of the results.

    Results are added as they finish, in any order; ``index`` (the execution's place in the plan)
    keeps the float sums (latency, cost) in plan order, so a tally gives the same totals as the list
    it replaces. Memory is a few numbers per case and per result, not the results: at 100,000
    executions about 3 MB.
    """

    def __init__(self, cases: Sequence[CaseFacts], positions: Mapping[str, int] | None = None) -> None:
        # tallies of one run's combinations share ``positions`` (case id -> place in ``cases``)
        self._position = positions if positions is not None else {case.id: n for n, case in enumerate(cases)}
        size = len(self._position)
        self.runs = array("l", [0]) * size
        self.passed = array("l", [0]) * size
        self.errors = array("l", [0]) * size
        self.results = 0
        self.passed_total = 0
        self.errors_total = 0
        self.cached = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_unknown = 0
        self._order = array("q")
        self._latency = array("d")  # nan: no latency
        self._cost = array("d")  # nan: no known cost

    @property
    def positions(self) -> Mapping[str, int]:
        return self._position

    def add(self, result: CaseResult, index: int | None = None) -> None:
        """Count ``result``; ``index`` is its place in the plan (default: the order of adding)."""
        position = self._position.get(result.case_id)
        if position is not None:
            self.runs[position] += 1
            self.passed[position] += result.outcome == "passed"
            self.errors[position] += result.outcome == "error"
        self.results += 1
        self.passed_total += result.outcome == "passed"
        self.errors_total += result.outcome == "error"
        self.cached += result.cached
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.cost_unknown += result.cost_usd is None and result.output is not None and not result.offline
        self._order.append(self.results if index is None else index)
        self._latency.append(math.nan if result.latency_ms is None else result.latency_ms)
        self._cost.append(math.nan if result.cost_usd is None else result.cost_usd)

    def case_summaries(self, cases: Iterable[CaseFacts]) -> list[CaseSummary]:
        """Per-case pass rates across repeats, for the cases that have results, in ``cases`` order."""
        summaries: list[CaseSummary] = []
        for case in cases:
            summary = self.case_summary(case)
            if summary is not None:
                summaries.append(summary)
        return summaries

    def ran(self, case: CaseFacts) -> bool:
        """Whether ``case`` has a result."""
        position = self._position.get(case.id)
        return position is not None and self.runs[position] > 0

    def case_summary(self, case: CaseFacts) -> CaseSummary | None:
        """``case`` across its repeats; None when it has no result."""
        position = self._position.get(case.id)
        runs = 0 if position is None else self.runs[position]
        if position is None or not runs:
            return None
        passed, errors = self.passed[position], self.errors[position]
        outcome: Outcome = "error" if errors else ("passed" if passed == runs else "failed")
        return CaseSummary.model_construct(
            case_id=case.id,
            runs=runs,
            passed=passed,
            errors=errors,
            pass_rate=passed / runs,
            outcome=outcome,
            weight=case.weight,
            required=case.required,
            tags=list(case.tags),
        )

    def _ran(self, cases: Iterable[CaseFacts]) -> Iterator[tuple[CaseFacts, int, int, int]]:
        """(case, runs, passed, errors) of each case in ``cases`` that has results."""
        for case in cases:
            position = self._position.get(case.id)
            if position is not None and self.runs[position]:
                yield case, self.runs[position], self.passed[position], self.errors[position]

    def pass_rate(self, cases: Iterable[CaseFacts]) -> float:
        """The case-weighted mean of per-case pass rates; with no weight, 1 only if every case passed."""
        weight_sum = 0.0
        weighted = 0.0
        ran = all_passed = 0
        for case, runs, passed, errors in self._ran(cases):
            weight_sum += case.weight
            weighted += case.weight * (passed / runs)
            ran += 1
            all_passed += not errors and passed == runs
        if weight_sum:
            return weighted / weight_sum
        return 1.0 if ran and all_passed == ran else 0.0

    def required_failures(self, cases: Sequence[CaseFacts], not_run: Sequence[CaseRef]) -> list[str]:
        """Required cases that did not pass, then (sorted) required cases with executions that never finished."""
        failures = [
            case.id for case, runs, passed, errors in self._ran(cases) if case.required and (errors or passed != runs)
        ]
        required_ids = {c.id for c in cases if c.required}
        failures += sorted({ref.case_id for ref in not_run if ref.case_id in required_ids} - set(failures))
        return failures

    def totals(self, *, provider_calls: int, duration_s: float) -> Totals:
        in_plan_order = sorted(range(len(self._order)), key=self._order.__getitem__)
        latencies = sorted(v for v in (self._latency[i] for i in in_plan_order) if not math.isnan(v))
        known_costs = [v for v in (self._cost[i] for i in in_plan_order) if not math.isnan(v)]
        return Totals.model_construct(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=float(sum(known_costs)),
            cost_unknown=self.cost_unknown,
            latency_ms_mean=(sum(latencies) / len(latencies)) if latencies else None,
            latency_ms_p95=_percentile(latencies, 0.95),
            provider_calls=provider_calls,
            duration_s=duration_s,
        )


def summarize_cases(cases: Iterable[CaseFacts], results: Iterable[CaseResult]) -> list[CaseSummary]:
    """Per-case pass rates across repeats, for the cases that have results, in ``cases`` order."""
    cases = list(cases)
    tally = ResultTally(cases)
    for result in results:
        tally.add(result)
    return tally.case_summaries(cases)


def summarize(
    cases: Sequence[CaseFacts],
    results: Iterable[CaseResult],
    *,
    planned_runs: int,
    not_run: Sequence[CaseRef],
    threshold: float,
    provider: str,
    offline: bool,
    provider_calls: int = 0,
    duration_s: float = 0.0,
    judge_provider: str | None = None,
    judge_offline: bool = False,
    cancelled: bool = False,
    error: str | None = None,
) -> tuple[Summary, list[CaseSummary]]:
    """The run's summary and per-case summaries.

    The status is ``error`` if anything errored or did not run, or the run was cancelled or stopped;
    else ``failed`` if the weighted pass rate is under ``threshold`` or a required case did not pass
    every repeat; else ``passed``. The server uses this too, to merge results of runs split into chunks.

    Args:
        cases: The cases the run covered (a subset for a chunk).
        results: Every case result.
        planned_runs: Executions planned (cases x repeats).
        not_run: Executions that never finished.
        threshold: The suite's minimum pass rate.
        provider: ``name:model`` of the provider.
        offline: Whether the provider is offline.
        provider_calls: Provider calls made.
        duration_s: Wall time.
        judge_provider: The judge's ``name:model``, if a judge ran.
        judge_offline: Whether the judge is offline.
        cancelled: Whether the run was cancelled.
        error: What stopped the run, if anything.
    """
    tally = ResultTally(cases)
    for result in results:
        tally.add(result)
    summary = summarize_tally(
        cases,
        tally,
        planned_runs=planned_runs,
        not_run=not_run,
        threshold=threshold,
        provider=provider,
        offline=offline,
        provider_calls=provider_calls,
        duration_s=duration_s,
        judge_provider=judge_provider,
        judge_offline=judge_offline,
        cancelled=cancelled,
        error=error,
    )
    return summary, tally.case_summaries(cases)


def summarize_tally(
    cases: Sequence[CaseFacts],
    tally: ResultTally,
    *,
    planned_runs: int,
    not_run: Sequence[CaseRef],
    threshold: float,
    provider: str,
    offline: bool,
    provider_calls: int = 0,
    duration_s: float = 0.0,
    judge_provider: str | None = None,
    judge_offline: bool = False,
    cancelled: bool = False,
    error: str | None = None,
) -> Summary:
    """:func:`summarize`'s summary from running counts (see :class:`ResultTally`), without a per-case list."""
    pass_rate = tally.pass_rate(cases)
    required_failures = tally.required_failures(cases, not_run)
    counts = Counts.model_construct(
        cases=len(cases),
        runs=planned_runs,
        passed=tally.passed_total,
        failed=tally.results - tally.passed_total - tally.errors_total,
        errors=tally.errors_total,
        not_run=len(not_run),
        cached=tally.cached,
    )
    if counts.errors or not_run or cancelled or error or tally.results < planned_runs:
        status: RunStatus = "error"
    elif pass_rate < threshold - 1e-9 or required_failures:
        status = "failed"
    else:
        status = "passed"
    summary = Summary.model_construct(
        status=status,
        cancelled=cancelled,
        error=error,
        pass_rate=pass_rate,
        threshold=threshold,
        required_failures=required_failures,
        counts=counts,
        totals=tally.totals(provider_calls=provider_calls, duration_s=duration_s),
        provider=provider,
        offline=offline,
        judge_provider=judge_provider,
        judge_offline=judge_offline,
    )
    return summary


def summarize_combinations(
    cases: Sequence[CaseFacts],
    results: Sequence[CaseResult],
    *,
    combinations: Sequence[tuple[str, str, bool]],
    runs_per_combination: int,
    not_run: Sequence[CaseRef],
    threshold: float,
) -> list[CombinationSummary]:
    """Each (prompt, provider, offline) combination of a matrix judged on its own results, as a run of its own.

    A matrix asks "does every prompt pass on every model?": a combination under the threshold fails
    the run even when the pass rate over all combinations reaches it.
    """
    tallies: dict[tuple[str | None, str | None], ResultTally] = {
        (prompt, provider): ResultTally(cases) for prompt, provider, _ in combinations
    }
    for result in results:
        tally = tallies.get((result.prompt, result.provider))
        if tally is not None:
            tally.add(result)
    return summarize_combination_tallies(
        cases,
        tallies,
        combinations=combinations,
        runs_per_combination=runs_per_combination,
        not_run=not_run,
        threshold=threshold,
    )


def summarize_combination_tallies(
    cases: Sequence[CaseFacts],
    tallies: Mapping[tuple[str | None, str | None], ResultTally],
    *,
    combinations: Sequence[tuple[str, str, bool]],
    runs_per_combination: int,
    not_run: Sequence[CaseRef],
    threshold: float,
) -> list[CombinationSummary]:
    """:func:`summarize_combinations` from one running tally per (prompt, provider)."""
    missing: dict[tuple[str | None, str | None], list[CaseRef]] = {}
    for ref in not_run:
        missing.setdefault((ref.prompt, ref.provider), []).append(ref)
    summaries = []
    for prompt, provider, offline in combinations:
        own = tallies.get((prompt, provider)) or ResultTally(())
        unfinished = missing.get((prompt, provider), [])
        summary = summarize_tally(
            cases,
            own,
            planned_runs=runs_per_combination,
            not_run=unfinished,
            threshold=threshold,
            provider=provider,
            offline=offline,
        )
        summaries.append(
            CombinationSummary.model_construct(
                prompt=prompt,
                provider=provider,
                offline=offline,
                status=summary.status,
                pass_rate=summary.pass_rate,
                runs=runs_per_combination,
                passed=summary.counts.passed,
                failed=summary.counts.failed,
                errors=summary.counts.errors,
                not_run=len(unfinished),
                required_failures=summary.required_failures,
            )
        )
    return summaries
