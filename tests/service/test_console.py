"""The ``steward`` console script (service.console): a one-shot command through it, in a real process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.service.test_process import _python

SUITE = """\
version: 1
name: console-check
prompt: prompt.txt
model: {provider: offline}
cases:
  - id: greets
    vars: {name: Ada}
    offline_output: Hello Ada
    asserts: [{type: contains, value: Ada}]
  - id: fails
    vars: {name: Bob}
    offline_output: Hello Ann
    asserts: [{type: contains, value: Bob}]
"""


def _steward(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return _python("import sys\nsys.argv[0] = 'steward'\nfrom service.console import main\nmain()", *args, cwd=cwd)


def test_eval_run_through_the_console_script_keeps_its_exit_codes_output_and_reports(tmp_path: Path) -> None:
    (tmp_path / "prompt.txt").write_text("Greet {{ name }}.", encoding="utf-8")
    (tmp_path / "suite.yaml").write_text(SUITE, encoding="utf-8")
    failed = _steward("eval", "run", "suite.yaml", "--json", "report.json", "--junit", "junit.xml", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "console-check: FAILED" in failed.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["counts"]["passed"] == 1
    assert report["summary"]["counts"]["failed"] == 1
    assert (tmp_path / "junit.xml").read_text(encoding="utf-8").rstrip().endswith("</testsuites>")

    (tmp_path / "suite.yaml").write_text(SUITE.split("  - id: fails")[0], encoding="utf-8")
    passed = _steward("eval", "run", "suite.yaml", cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert "console-check: PASSED" in passed.stdout

    missing = _steward("eval", "run", "nowhere.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere.yaml" in missing.stderr
