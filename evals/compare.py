"""Comparing a run with a baseline report, and the exit code CI should see."""

from __future__ import annotations

from evals.results import Comparison, Report


def compare_reports(baseline: Report, current: Report, *, baseline_name: str = "baseline") -> Comparison:
    """Which cases regressed, were fixed, are new or were removed, by case id across repeats.

    A regression is a case that passed in the baseline and does not pass now (failed or errored);
    a fix is the reverse. Cases the current run planned but did not finish are neither removed nor
    compared: the run's status already says it is incomplete.

    Args:
        baseline: The earlier report.
        current: This run's report.
        baseline_name: How to name the baseline in reports (its file name).
    """
    before = {c.case_id: c.outcome for c in baseline.cases}
    now = {c.case_id: c.outcome for c in current.cases}
    unfinished = {ref.case_id for ref in current.not_run}
    regressions = [cid for cid, outcome in now.items() if before.get(cid) == "passed" and outcome != "passed"]
    fixes = [cid for cid, outcome in now.items() if cid in before and before[cid] != "passed" and outcome == "passed"]
    new = [cid for cid in now if cid not in before]
    removed = [cid for cid in before if cid not in now and cid not in unfinished]
    return Comparison(baseline=baseline_name, regressions=regressions, fixes=fixes, new=new, removed=removed)


def apply_comparison(report: Report, comparison: Comparison) -> None:
    """Attach ``comparison`` to ``report``; a regression makes a passing run ``failed``, so every report agrees."""
    report.comparison = comparison
    if comparison.regressions and report.summary.status == "passed":
        report.summary.status = "failed"


def status_label(report: Report) -> str:
    """The verdict as reports show it: ``PASSED``, ``FAILED``, ``ERROR``, or ``FAILED (regression)``."""
    label = report.summary.status.upper()
    if report.comparison is not None and report.comparison.regressions and report.summary.status == "failed":
        label += " (regression)"
    elif report.summary.fairness == "failed" and report.summary.status == "failed":
        label += " (fairness)"
    return label


def exit_code(report: Report) -> int:
    """0 passed, 1 failed threshold or any regression against the baseline, 2 error (not run or not graded)."""
    if report.summary.status == "error":
        return 2
    if report.summary.status == "failed" or (report.comparison is not None and report.comparison.regressions):
        return 1
    return 0
