"""Report writers: JSON round-trips, JUnit parses as JUnit, Markdown and HTML lead with regressions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from evals import ProviderConfig, RunOptions, run_suite_sync
from evals.compare import compare_reports, exit_code
from evals.reports import read_report, render_html, render_junit, render_markdown, write_json
from tests.evals.conftest import TEMPLATES, make_suite


def run(outputs: dict[str, str]):
    cases = [
        {
            "id": cid,
            "vars": {"msg": "x"},
            "offline_output": out,
            "asserts": [{"type": "contains", "value": "ok"}, {"type": "not-contains", "value": "<script>"}],
        }
        for cid, out in outputs.items()
    ]
    return run_suite_sync(
        make_suite(cases, threshold={"pass_rate": 0.5}),
        templates=TEMPLATES,
        options=RunOptions(),
        provider_config=ProviderConfig(),
    )


@pytest.fixture
def reports():
    baseline = run({"stays": "ok", "breaks": "ok", "mends": "bad", "gone": "ok"})
    current = run({"stays": "ok", "breaks": "bad <script>alert(1)</script>\x01", "mends": "ok", "fresh": "ok"})
    current.comparison = compare_reports(baseline, current, baseline_name="base.json")
    return baseline, current


def test_comparison_and_exit_codes(reports):
    baseline, current = reports
    c = current.comparison
    assert (c.regressions, c.fixes, c.new, c.removed) == (["breaks"], ["mends"], ["fresh"], ["gone"])
    assert current.summary.status == "passed" and exit_code(current) == 1  # a regression fails CI
    assert exit_code(baseline) == 0


def test_json_round_trip(reports, tmp_path):
    _, current = reports
    write_json(current, tmp_path / "r.json")
    again = read_report(tmp_path / "r.json")
    assert again == current
    (tmp_path / "bad.json").write_text('{"version": 7}')
    with pytest.raises(ValueError, match=r"bad\.json"):
        read_report(tmp_path / "bad.json")


def test_junit_parses_with_a_testcase_per_case_and_reasons(reports):
    _, current = reports
    root = ET.fromstring(render_junit(current).encode())
    suite = root.find("testsuite")
    assert suite.get("name") == "test-suite [offline]"
    names = [tc.get("name") for tc in suite.findall("testcase")]
    assert names[0] == "baseline comparison" and set(names[1:]) == {"stays", "breaks", "mends", "fresh"}
    assert int(suite.get("tests")) == 5 and int(suite.get("failures")) == 2
    breaks = next(tc for tc in suite.findall("testcase") if tc.get("name") == "breaks")
    assert "does not contain 'ok'" in breaks.find("failure").text
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["offline"] == "true"


def test_markdown_lists_regressions_first_and_labels_offline(reports):
    _, current = reports
    text = render_markdown(current)
    assert text.index("Regressions") < text.index("| pass rate")
    assert "**Regressions** (1): `breaks`" in text and "Offline provider" in text
    assert "<script>" not in text


def test_html_is_self_contained_and_escaped(reports):
    _, current = reports
    page = render_html(current)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert "<link" not in page and "@import" not in page
    assert "Offline provider" in page
    assert page.index("Regressions") < page.index("<h2>Cases</h2>")


def test_a_regression_says_failed_everywhere_the_exit_code_does(reports):
    from evals.compare import apply_comparison, status_label

    baseline, current = reports
    assert current.summary.status == "passed"  # 3 of 4 pass, threshold 0.5
    apply_comparison(current, compare_reports(baseline, current, baseline_name="base.json"))
    assert exit_code(current) == 1
    assert current.summary.status == "failed" and status_label(current) == "FAILED (regression)"
    assert "**FAILED (regression)**" in render_markdown(current).splitlines()[0]
    assert "<title>Steward eval test-suite: FAILED (regression)</title>" in render_html(current)
    props = {p.get("name"): p.get("value") for p in ET.fromstring(render_junit(current)).iter("property")}
    assert props["status"] == "failed"


def test_junit_failure_message_is_the_first_failing_reason_and_testsuites_has_no_skipped(reports):
    _, current = reports
    root = ET.fromstring(render_junit(current))
    # junit-10.xsd (Jenkins xunit): testsuites takes name, time, tests, failures, disabled, errors only
    assert set(root.attrib) <= {"name", "time", "tests", "failures", "disabled", "errors"}
    breaks = next(tc for tc in root.iter("testcase") if tc.get("name") == "breaks")
    failure = breaks.find("failure")
    assert failure is not None
    assert failure.get("message").startswith("[failed] contains:")  # the first of the two failing assertions
    assert "not-contains" in (failure.text or "")


def test_markdown_survives_backticks_and_offline_shows_once_with_no_provider_calls():
    report = run_suite_sync(
        make_suite(
            [
                {
                    "id": "a`b``c",
                    "vars": {"msg": "x"},
                    "offline_output": "bad",
                    "asserts": [{"type": "contains", "value": "ok"}],
                }
            ],
            model={"provider": "offline"},
        ),
        templates=TEMPLATES,
        options=RunOptions(),
        provider_config=ProviderConfig(),
    )
    assert report.summary.provider == "offline" and report.summary.totals.provider_calls == 0
    markdown = render_markdown(report)
    assert "| ```a`b``c``` | failed |" in markdown
    assert "| offline |" in markdown and "offline:offline" not in markdown and "offline (offline)" not in markdown


# The rules of Jenkins xunit's JUnit schema, junit-10.xsd, as the test checks them: per element, the
# attributes allowed, those required, and the child elements allowed. Source:
# https://github.com/jenkinsci/xunit-plugin/blob/master/src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd
_OUTCOME = ({"type", "message"}, set(), set())
_RERUN = ({"type", "message"}, {"type"}, {"stackTrace", "system-out", "system-err"})
JUNIT_10_RULES: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": ({"name", "time", "tests", "failures", "errors"}, set(), {"testsuite"}),
    "testsuite": (
        {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package"}
        | {"file", "log", "url"},
        {"name", "tests", "failures", "errors"},
        {"testsuite", "properties", "testcase", "system-out", "system-err"},
    ),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, {"name", "value"}, set()),
    "testcase": (
        {"name", "time", "classname", "group"},
        {"name"},
        {"skipped", "error", "failure", "system-out", "system-err"}
        | {"rerunFailure", "rerunError", "flakyFailure", "flakyError"},
    ),
    "failure": _OUTCOME,
    "error": _OUTCOME,
    "skipped": _OUTCOME,
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
    "rerunFailure": _RERUN,
    "rerunError": _RERUN,
    "flakyFailure": _RERUN,
    "flakyError": _RERUN,
}
# the schema's SUREFIRE_TIME type, of testsuite/@time and testsuites/@time
_SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")


def junit_10_violations(document: str) -> list[str]:
    """Where ``document`` breaks junit-10.xsd's rules (empty when it conforms)."""
    root = ET.fromstring(document)
    problems = [] if root.tag == "testsuites" else [f"root element <{root.tag}>"]
    for el in root.iter():
        if el.tag not in JUNIT_10_RULES:
            problems.append(f"unknown element <{el.tag}>")
            continue
        allowed, required, children = JUNIT_10_RULES[el.tag]
        problems += [f"<{el.tag}> has no attribute {a!r}" for a in sorted(set(el.attrib) - allowed)]
        problems += [f"<{el.tag}> lacks {a!r}" for a in sorted(required - set(el.attrib))]
        problems += [f"<{child.tag}> inside <{el.tag}>" for child in el if child.tag not in children]
        timed = el.tag in ("testsuite", "testsuites") and "time" in el.attrib
        if timed and not _SUREFIRE_TIME.fullmatch(el.get("time", "")):
            problems.append(f"<{el.tag}> time {el.get('time')!r}")
    return problems


def test_the_rules_catch_what_junit_10_refuses():
    assert junit_10_violations(
        '<testsuites skipped="1"><testsuite name="s" tests="0" failures="0" errors="0"/></testsuites>'
    )
    assert junit_10_violations('<testsuites><testsuite name="s" tests="0"/></testsuites>')
    assert junit_10_violations('<testsuites time="1e3"/>')


def test_junit_conforms_to_junit_10_xsd_passing_failing_regressed_skipped_and_matrix(reports, tmp_path):
    baseline, current = reports
    from evals.compare import apply_comparison

    apply_comparison(current, compare_reports(baseline, current, baseline_name="base.json"))
    assert junit_10_violations(render_junit(baseline)) == []
    assert junit_10_violations(render_junit(current)) == []
    # a stopped run: its unfinished executions are <skipped>
    from evals import CaseRef

    stopped = baseline.model_copy(update={"not_run": [CaseRef(case_id="later", repeat_index=1)]})
    document = render_junit(stopped)
    assert "<skipped" in document and junit_10_violations(document) == []
    matrix = run_suite_sync(
        make_suite(providers=["offline", "offline:other"], prompts=["main", "second"]),
        templates={**TEMPLATES, "second": "Second: {{ msg }}"},
        options=RunOptions(),
        provider_config=ProviderConfig(),
    )
    document = render_junit(matrix)
    assert document.count("<testsuite ") == 4 and junit_10_violations(document) == []


def test_the_json_report_is_written_result_by_result_as_the_same_document(reports, tmp_path):
    import json

    for report in (*reports, reports[0].model_copy(update={"results": []})):
        write_json(report, tmp_path / "r.json")
        text = (tmp_path / "r.json").read_text(encoding="utf-8")
        assert text == report.model_dump_json(indent=2)  # byte for byte, so diffs of reports stay the same
        assert json.loads(text) == json.loads(report.model_dump_json())
        assert read_report(tmp_path / "r.json") == report
