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
