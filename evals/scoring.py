"""Turning assertion verdicts into case outcomes, and case results into a run's summary."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

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
from evals.suite import Case


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


def summarize_cases(cases: Iterable[Case], results: Iterable[CaseResult]) -> list[CaseSummary]:
    """Per-case pass rates across repeats, for the cases that have results, in ``cases`` order."""
    by_case: dict[str, list[CaseResult]] = {}
    for result in results:
        by_case.setdefault(result.case_id, []).append(result)
    summaries: list[CaseSummary] = []
    for case in cases:
        runs = by_case.get(case.id)
        if not runs:
            continue
        passed = sum(1 for r in runs if r.outcome == "passed")
        errors = sum(1 for r in runs if r.outcome == "error")
        outcome: Outcome = "error" if errors else ("passed" if passed == len(runs) else "failed")
        summaries.append(
            CaseSummary.model_construct(
                case_id=case.id,
                runs=len(runs),
                passed=passed,
                errors=errors,
                pass_rate=passed / len(runs),
                outcome=outcome,
                weight=case.weight,
                required=case.required,
                tags=list(case.tags),
            )
        )
    return summaries


def summarize(
    cases: Sequence[Case],
    results: Sequence[CaseResult],
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
    case_summaries = summarize_cases(cases, results)
    pass_rate = _pass_rate(case_summaries)
    required_failures = _required_failures(cases, case_summaries, not_run)
    counts = _counts(cases, results, planned_runs=planned_runs, not_run=not_run)
    if counts.errors or not_run or cancelled or error or len(results) < planned_runs:
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
        totals=_totals(results, provider_calls=provider_calls, duration_s=duration_s),
        provider=provider,
        offline=offline,
        judge_provider=judge_provider,
        judge_offline=judge_offline,
    )
    return summary, case_summaries


def _pass_rate(case_summaries: Sequence[CaseSummary]) -> float:
    """The case-weighted mean of per-case pass rates; with no weight, 1 only if every case passed."""
    weight_sum = sum(c.weight for c in case_summaries)
    if weight_sum:
        return sum(c.weight * c.pass_rate for c in case_summaries) / weight_sum
    return 1.0 if case_summaries and all(c.outcome == "passed" for c in case_summaries) else 0.0


def _required_failures(
    cases: Sequence[Case], case_summaries: Sequence[CaseSummary], not_run: Sequence[CaseRef]
) -> list[str]:
    """Required cases that did not pass, then (sorted) required cases with executions that never finished."""
    failures = [c.case_id for c in case_summaries if c.required and c.outcome != "passed"]
    required_ids = {c.id for c in cases if c.required}
    failures += sorted({ref.case_id for ref in not_run if ref.case_id in required_ids} - set(failures))
    return failures


def _counts(
    cases: Sequence[Case], results: Sequence[CaseResult], *, planned_runs: int, not_run: Sequence[CaseRef]
) -> Counts:
    passed = sum(1 for r in results if r.outcome == "passed")
    errors = sum(1 for r in results if r.outcome == "error")
    return Counts.model_construct(
        cases=len(cases),
        runs=planned_runs,
        passed=passed,
        failed=len(results) - passed - errors,
        errors=errors,
        not_run=len(not_run),
        cached=sum(1 for r in results if r.cached),
    )


def _totals(results: Sequence[CaseResult], *, provider_calls: int, duration_s: float) -> Totals:
    latencies = sorted(r.latency_ms for r in results if r.latency_ms is not None)
    known_costs = [r.cost_usd for r in results if r.cost_usd is not None]
    return Totals.model_construct(
        prompt_tokens=sum(r.prompt_tokens for r in results),
        completion_tokens=sum(r.completion_tokens for r in results),
        cost_usd=float(sum(known_costs)),
        cost_unknown=sum(1 for r in results if r.cost_usd is None and r.output is not None and not r.offline),
        latency_ms_mean=(sum(latencies) / len(latencies)) if latencies else None,
        latency_ms_p95=_percentile(latencies, 0.95),
        provider_calls=provider_calls,
        duration_s=duration_s,
    )


def summarize_combinations(
    cases: Sequence[Case],
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
    by_pair: dict[tuple[str | None, str | None], list[CaseResult]] = {}
    for result in results:
        by_pair.setdefault((result.prompt, result.provider), []).append(result)
    missing: dict[tuple[str | None, str | None], list[CaseRef]] = {}
    for ref in not_run:
        missing.setdefault((ref.prompt, ref.provider), []).append(ref)
    summaries = []
    for prompt, provider, offline in combinations:
        own = by_pair.get((prompt, provider), [])
        unfinished = missing.get((prompt, provider), [])
        summary, _ = summarize(
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
