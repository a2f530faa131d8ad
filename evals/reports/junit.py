"""JUnit XML as Jenkins, GitLab and GitHub test reporters read it: a testcase per case.

A case repeated K times is one testcase that fails unless every repeat passed, with each failing
repeat's reasons in the failure text. Unfinished cases are ``skipped``. With a baseline, a first
testcase, ``baseline comparison``, fails when anything regressed, so regressions show first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from evals.fairness.render import junit_cases
from evals.reports.matrix import combination_label
from evals.results import CaseRef, CaseResult, CaseSummary, CombinationSummary, Comparison, Outcome, Report, Summary

# XML 1.0 cannot carry most control characters even escaped; model output sometimes has them
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _failure_text(runs: list[CaseResult]) -> tuple[str, str]:
    lines: list[str] = []
    first = ""
    for run in runs:
        if run.outcome == "passed":
            continue
        start = len(lines)
        prefix = f"repeat {run.repeat_index}: " if len(runs) > 1 else ""
        if run.error:
            lines.append(f"{prefix}error: {run.error}")
        for result in run.assertions:
            if result.outcome != "passed":
                lines.append(f"{prefix}[{result.outcome}] {result.type}: {result.reason}")
        first = first or (lines[start] if len(lines) > start else f"{prefix}{run.outcome}")
    return first, "\n".join(lines)


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document: one testsuite, or in a matrix one per prompt x provider combination."""
    summary = report.summary
    label = " [offline]" if summary.offline else ""
    suites: list[tuple[ET.Element, _Tally]] = []
    if not summary.combinations:
        suites.append(
            _suite(report, f"{report.suite}{label}", report.results, report.cases, report.not_run, summary.provider)
        )
    for n, combo in enumerate(summary.combinations):
        pair = (combo.prompt, combo.provider)
        own = [r for r in report.results if (r.prompt, r.provider) == pair]
        refs = [ref for ref in report.not_run if (ref.prompt, ref.provider) == pair]
        name = f"{report.suite} [{combination_label(*pair)}]" + (" [offline]" if combo.offline else "")
        suites.append(
            _suite(report, name, own, _per_case(report.cases, own), refs, combo.provider, combo=combo, first=n == 0)
        )
    totals = _Tally()
    for _, tally in suites:
        totals.tests += tally.tests
        totals.failures += tally.failures
        totals.errors += tally.errors
    # Jenkins xunit's junit-10.xsd allows no "skipped" on <testsuites> (it does on <testsuite>)
    root = ET.Element(
        "testsuites",
        {
            "name": "steward-eval",
            "tests": str(totals.tests),
            "failures": str(totals.failures),
            "errors": str(totals.errors),
            "time": f"{summary.totals.duration_s:.3f}",
        },
    )
    for suite_el, _ in suites:
        root.append(suite_el)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _per_case(cases: list[CaseSummary], runs: list[CaseResult]) -> list[CaseSummary]:
    """The cases as one combination of a matrix saw them: its own repeats only."""
    by_case: dict[str, list[CaseResult]] = {}
    for run in runs:
        by_case.setdefault(run.case_id, []).append(run)
    out = []
    for case in cases:
        own = by_case.get(case.case_id)
        if not own:
            continue
        passed = sum(r.outcome == "passed" for r in own)
        errors = sum(r.outcome == "error" for r in own)
        outcome: Outcome = "error" if errors else ("passed" if passed == len(own) else "failed")
        out.append(
            case.model_copy(
                update={
                    "runs": len(own),
                    "passed": passed,
                    "errors": errors,
                    "pass_rate": passed / len(own),
                    "outcome": outcome,
                }
            )
        )
    return out


def _suite(
    report: Report,
    name: str,
    results: list[CaseResult],
    cases: list[CaseSummary],
    not_run: list[CaseRef],
    provider: str,
    *,
    combo: CombinationSummary | None = None,
    first: bool = True,
) -> tuple[ET.Element, _Tally]:
    """A testsuite of ``cases`` with ``results``; the baseline comparison leads the first one."""
    summary = report.summary
    by_case: dict[str, list[CaseResult]] = {}
    for result in results:
        by_case.setdefault(result.case_id, []).append(result)
    suite_el = ET.Element("testsuite", name=name, timestamp=report.started_at)
    _properties(suite_el, summary, provider, combo)
    tally = _Tally()
    if report.comparison is not None and first:
        _comparison_case(suite_el, report.suite, report.comparison, tally)
    if report.fairness is not None and first:
        for tag in junit_cases(suite_el, name, report.fairness, _clean):
            tally.tests += 1
            tally.failures += tag == "failure"
            tally.errors += tag == "error"
            tally.skipped += tag == "skipped"
    for case in cases:
        _case(suite_el, name, case, by_case.get(case.case_id, []), provider, tally)
    for ref in not_run:
        tally.tests += 1
        tally.skipped += 1
        case_el = ET.SubElement(
            suite_el,
            "testcase",
            classname=name,
            name=f"{ref.case_id}" + (f" #{ref.repeat_index}" if ref.repeat_index else ""),
        )
        ET.SubElement(case_el, "skipped", message="not run: " + (summary.error or "the run stopped"))
    suite_el.attrib.update(
        {
            "tests": str(tally.tests),
            "failures": str(tally.failures),
            "errors": str(tally.errors),
            "skipped": str(tally.skipped),
            "time": f"{summary.totals.duration_s:.3f}",
        }
    )
    return suite_el, tally


@dataclass
class _Tally:
    """The testsuite's counts, as testcases are added."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0


def _properties(suite_el: ET.Element, summary: Summary, provider: str, combo: CombinationSummary | None) -> None:
    props = ET.SubElement(suite_el, "properties")
    matrix: tuple[tuple[str, str], ...] = ()
    if combo is not None:
        matrix = (
            ("prompt", combo.prompt),
            ("combination_status", combo.status),
            ("combination_pass_rate", f"{combo.pass_rate:.4f}"),
        )
    for name, value in (
        ("status", summary.status),
        ("provider", provider),
        *matrix,
        ("offline", str(summary.offline).lower()),
        ("pass_rate", f"{summary.pass_rate:.4f}"),
        ("threshold", f"{summary.threshold:.4f}"),
        ("judge_provider", summary.judge_provider or ""),
        ("judge_offline", str(summary.judge_offline).lower()),
        ("fairness", summary.fairness or ""),
    ):
        ET.SubElement(props, "property", name=name, value=_clean(value))


def _comparison_case(suite_el: ET.Element, suite: str, comparison: Comparison, tally: _Tally) -> None:
    """The ``baseline comparison`` testcase: it fails when anything regressed."""
    tally.tests += 1
    case_el = ET.SubElement(suite_el, "testcase", classname=suite, name="baseline comparison", time="0")
    if comparison.regressions:
        tally.failures += 1
        failure = ET.SubElement(
            case_el,
            "failure",
            type="regression",
            message=f"{len(comparison.regressions)} regression(s) against {comparison.baseline}",
        )
        failure.text = "regressions: " + ", ".join(comparison.regressions)
    ET.SubElement(case_el, "system-out").text = _clean(
        f"fixes: {', '.join(comparison.fixes) or '-'}\nnew: {', '.join(comparison.new) or '-'}\n"
        f"removed: {', '.join(comparison.removed) or '-'}"
    )


def _case(
    suite_el: ET.Element, classname: str, case: CaseSummary, runs: list[CaseResult], provider: str, tally: _Tally
) -> None:
    """A case's testcase: a failure or error unless every repeat passed, and the last answer as system-out."""
    tally.tests += 1
    seconds = sum((r.latency_ms or 0.0) for r in runs) / 1000.0
    case_el = ET.SubElement(suite_el, "testcase", classname=classname, name=case.case_id, time=f"{seconds:.3f}")
    if case.outcome != "passed":
        first, text = _failure_text(runs)
        tag = "error" if case.outcome == "error" else "failure"
        tally.errors += tag == "error"
        tally.failures += tag == "failure"
        rate = f" (passed {case.passed}/{case.runs})" if case.runs > 1 else ""
        el = ET.SubElement(case_el, tag, type=case.outcome, message=_clean(first[:500] + rate))
        el.text = _clean(text)
    if runs and runs[-1].output is not None:
        origin = "offline provider" if runs[-1].offline else provider
        ET.SubElement(case_el, "system-out").text = _clean(f"[{origin}] {runs[-1].output}")


def write_junit(report: Report, path: str | Path) -> None:
    """Write the JUnit XML of ``report`` to ``path``."""
    Path(path).write_text(render_junit(report), encoding="utf-8")
