"""JUnit XML as Jenkins, GitLab and GitHub test reporters read it: a testcase per case.

A case repeated K times is one testcase that fails unless every repeat passed, with each failing
repeat's reasons in the failure text. Unfinished cases are ``skipped``. With a baseline, a first
testcase, ``baseline comparison``, fails when anything regressed, so regressions show first.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

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
    out = io.StringIO()
    _write(report, out)
    return out.getvalue()


def write_junit(report: Report, path: str | Path) -> None:
    """Write the JUnit XML of ``report`` to ``path``, a testcase at a time (never the whole tree in memory)."""
    with Path(path).open("w", encoding="utf-8") as out:
        _write(report, out)


def _write(report: Report, out: TextIO) -> None:
    """Each testsuite goes to a temporary file first: its counts, which its start tag carries, are known at its end."""
    summary = report.summary
    label = " [offline]" if summary.offline else ""
    with contextlib.ExitStack() as stack:
        suites: list[tuple[ET.Element, _Tally, IO[str]]] = []
        body: IO[str]
        if not summary.combinations:
            body = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            name = f"{report.suite}{label}"
            suites.append((*_suite(report, name, body, None, report.not_run, summary.provider), body))
        for n, combo in enumerate(summary.combinations):
            pair = (combo.prompt, combo.provider)
            refs = [ref for ref in report.not_run if (ref.prompt, ref.provider) == pair]
            name = f"{report.suite} [{combination_label(*pair)}]" + (" [offline]" if combo.offline else "")
            body = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            suites.append((*_suite(report, name, body, pair, refs, combo.provider, combo=combo, first=n == 0), body))
        totals = _Tally()
        for _, tally, _ in suites:
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
        # a report has one testsuite, or one per combination: the root is never empty
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + _start_tag(root))
        for suite_el, _, body in suites:
            out.write("\n  " + _start_tag(suite_el))
            body.seek(0)
            shutil.copyfileobj(body, out)
            out.write("\n  </testsuite>")
        out.write("\n</testsuites>\n")


def _start_tag(element: ET.Element) -> str:
    """``<name attr="...">`` of an element without children, escaped as ElementTree escapes it."""
    text = ET.tostring(element, encoding="unicode")
    if not text.endswith(" />"):  # pragma: no cover - an element with no children or text closes itself
        raise AssertionError(text)
    return text[: -len(" />")] + ">"


def _element(out: IO[str], element: ET.Element) -> None:
    """One child of a testsuite, indented as ``ET.indent`` indents it in the whole document."""
    ET.indent(element, level=2)
    out.write("\n    " + ET.tostring(element, encoding="unicode"))


def _groups(results: Iterable[CaseResult], pair: tuple[str | None, str | None] | None) -> Iterator[list[CaseResult]]:
    """The results (of ``pair`` only, in a matrix) in runs of one case each, in the order they come."""
    group: list[CaseResult] = []
    for result in results:
        if pair is not None and (result.prompt, result.provider) != pair:
            continue
        if group and group[0].case_id != result.case_id:
            yield group
            group = []
        group.append(result)
    if group:
        yield group


def _case_runs(
    report: Report, pair: tuple[str | None, str | None] | None
) -> Iterator[tuple[CaseSummary, list[CaseResult]]]:
    """Each case of the testsuite with its runs, in the report's case order.

    Results held in a list may come in any order and are grouped by case; spooled ones come in plan
    order (a case's runs together, cases in order) and are grouped as they stream, one case at a time.
    """
    if isinstance(report.results, list):
        by_case: dict[str, list[CaseResult]] = {}
        for result in report.results:
            if pair is None or (result.prompt, result.provider) == pair:
                by_case.setdefault(result.case_id, []).append(result)
        runs_of: Callable[[str], list[CaseResult]] = lambda case_id: by_case.get(case_id, [])  # noqa: E731
    else:
        groups = _groups(report.results, pair)
        pending = next(groups, None)

        def runs_of(case_id: str) -> list[CaseResult]:
            nonlocal pending
            if pending is None or pending[0].case_id != case_id:
                return []
            runs, pending = pending, next(groups, None)
            return runs

    for case in report.cases:
        runs = runs_of(case.case_id)
        if pair is None:
            yield case, runs
        elif runs:
            yield _per_case(case, runs), runs


def _per_case(case: CaseSummary, own: list[CaseResult]) -> CaseSummary:
    """The case as one combination of a matrix saw it: its own repeats only."""
    passed = sum(r.outcome == "passed" for r in own)
    errors = sum(r.outcome == "error" for r in own)
    outcome: Outcome = "error" if errors else ("passed" if passed == len(own) else "failed")
    return case.model_copy(
        update={
            "runs": len(own),
            "passed": passed,
            "errors": errors,
            "pass_rate": passed / len(own),
            "outcome": outcome,
        }
    )


def _suite(
    report: Report,
    name: str,
    out: IO[str],
    pair: tuple[str | None, str | None] | None,
    not_run: list[CaseRef],
    provider: str,
    *,
    combo: CombinationSummary | None = None,
    first: bool = True,
) -> tuple[ET.Element, _Tally]:
    """A testsuite's children written to ``out``; returns its (childless) element and counts.

    The baseline comparison leads the first testsuite.
    """
    summary = report.summary
    suite_el = ET.Element("testsuite", name=name, timestamp=report.started_at)
    _element(out, _properties(summary, provider, combo))
    tally = _Tally()
    if report.comparison is not None and first:
        _element(out, _comparison_case(report.suite, report.comparison, tally))
    if report.fairness is not None and first:
        holder = ET.Element("testsuite")
        for tag in junit_cases(holder, name, report.fairness, _clean):
            tally.tests += 1
            tally.failures += tag == "failure"
            tally.errors += tag == "error"
            tally.skipped += tag == "skipped"
        for case_el in holder:
            _element(out, case_el)
    for case, runs in _case_runs(report, pair):
        _element(out, _case(name, case, runs, provider, tally))
    for ref in not_run:
        tally.tests += 1
        tally.skipped += 1
        case_el = ET.Element(
            "testcase",
            classname=name,
            name=f"{ref.case_id}" + (f" #{ref.repeat_index}" if ref.repeat_index else ""),
        )
        ET.SubElement(case_el, "skipped", message="not run: " + (summary.error or "the run stopped"))
        _element(out, case_el)
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


def _properties(summary: Summary, provider: str, combo: CombinationSummary | None) -> ET.Element:
    props = ET.Element("properties")
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
    return props


def _comparison_case(suite: str, comparison: Comparison, tally: _Tally) -> ET.Element:
    """The ``baseline comparison`` testcase: it fails when anything regressed."""
    tally.tests += 1
    case_el = ET.Element("testcase", classname=suite, name="baseline comparison", time="0")
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
    return case_el


def _case(classname: str, case: CaseSummary, runs: list[CaseResult], provider: str, tally: _Tally) -> ET.Element:
    """A case's testcase: a failure or error unless every repeat passed, and the last answer as system-out."""
    tally.tests += 1
    seconds = sum((r.latency_ms or 0.0) for r in runs) / 1000.0
    case_el = ET.Element("testcase", classname=classname, name=case.case_id, time=f"{seconds:.3f}")
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
    return case_el
