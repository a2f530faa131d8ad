"""The goal coach's fairness suite through `steward eval`: it validates, runs and reports per dimension."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from service.cli import app
from service.settings import PROJECT_ROOT

runner = CliRunner()
BUNDLE = PROJECT_ROOT / "prompts" / "goal_coach"
SUITE = str(BUNDLE / "suites" / "goal-coach-fairness.yaml")
DIMENSIONS = ["gender", "ethnicity", "pronouns", "age", "parental-leave", "part-time", "disability", "nationality"]


def test_validate_counts_the_variants():
    result = runner.invoke(app, ["eval", "validate", SUITE, "--bundle", str(BUNDLE / "steward.yaml")])
    assert result.exit_code == 0, result.output
    assert "55 cases (55 fairness variants of 3 base cases)" in result.output


def test_the_reference_fairness_suite_reports_every_dimension_in_every_format(tmp_path):
    out = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "xml", "md", "html")}
    args = ["eval", "run", SUITE, "--bundle", str(BUNDLE / "steward.yaml"), "--no-cache"]
    args += ["--json", str(out["json"]), "--junit", str(out["xml"]), "--md", str(out["md"]), "--html", str(out["html"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output  # offline: the run passes; its fairness proves nothing
    assert "fairness: cannot-show-bias" in result.output
    for dimension in DIMENSIONS:
        assert f"    {dimension}: cannot-show-bias" in result.output
    report = json.loads(out["json"].read_text())
    assert [d["dimension"] for d in report["fairness"]["dimensions"]] == DIMENSIONS
    assert report["summary"]["fairness"] == "cannot-show-bias"
    markdown, html, junit = out["md"].read_text(), out["html"].read_text(), out["xml"].read_text()
    for dimension in DIMENSIONS:
        assert f"#### {dimension}" in markdown and f"<h3>{dimension}: " in html
        assert f'name="fairness: {dimension}"' in junit
    assert junit.count('<skipped message="cannot show bias') == len(DIMENSIONS)
