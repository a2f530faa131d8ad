"""Imported suites test what promptfoo tests: run both on the same configs and compare every answer's verdict.

For each config in bench/parity/: ``steward eval import-promptfoo`` must exit 0; then promptfoo 0.123.1
runs the config and Steward runs the imported suite, both against the same deterministic fake OpenAI
server (it echoes the prompt), and the multisets of (answer, passed) must be equal: the same prompts
were rendered, the same number of tests ran, and each got the same verdict. The server also counts the
requests per set of sampling parameters (model, temperature, max_tokens, max_completion_tokens, seed), and
those counts must be equal too: every model was asked as promptfoo asked it.

    python bench/setup_promptfoo.py && python bench/promptfoo_parity.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from procs import BENCH, FakeServer
from setup_promptfoo import node_bin, node_env, promptfoo_entry

PARITY = BENCH / "parity"


def steward_bin() -> str:
    return str(Path(sys.executable).parent / "steward")


def verdicts_promptfoo(config: Path, base_url: str, out: Path) -> Counter[tuple[str, bool]]:
    report = out / "promptfoo.json"
    env = node_env()
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="parity")
    cmd = [str(node_bin()), str(promptfoo_entry()), "eval", "-c", str(config), "-o", str(report)]
    cmd += ["--no-cache", "--no-table", "--no-progress-bar"]
    subprocess.run(cmd, env=env, cwd=config.parent, capture_output=True, text=True, timeout=300)
    results = json.loads(report.read_text())["results"]["results"]
    return Counter((r["response"]["output"], bool(r["success"])) for r in results)


def verdicts_steward(config: Path, base_url: str, out: Path) -> Counter[tuple[str, bool]] | str:
    suite = out / "suite.yaml"
    imported = subprocess.run(
        [steward_bin(), "eval", "import-promptfoo", str(config), "-o", str(suite)], capture_output=True, text=True
    )
    if imported.returncode != 0:
        return f"import exited {imported.returncode}: {imported.stderr.strip()}"
    report = out / "steward.json"
    env = {"STEWARD_OPENAI_BASE_URL": base_url, "STEWARD_OPENAI_API_KEY": "parity", "NO_COLOR": "1"}
    cmd = [steward_bin(), "eval", "run", str(suite), "--json", str(report), "--no-cache"]
    subprocess.run(cmd, env={**node_env(), **env}, capture_output=True, text=True, timeout=300)
    results = json.loads(report.read_text())["results"]
    return Counter((r["output"], r["outcome"] == "passed") for r in results)


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as tmp, FakeServer(0, Path(tmp)) as server:
        for config in sorted(PARITY.glob("*/promptfooconfig.yaml")):
            out = Path(tmp) / config.parent.name
            out.mkdir()
            server.reset()
            theirs = verdicts_promptfoo(config, server.base_url, out)
            their_sampling = server.stats()["sampling"]
            server.reset()
            ours = verdicts_steward(config, server.base_url, out)
            our_sampling = server.stats()["sampling"]
            same = ours == theirs
            sampled_alike = our_sampling == their_sampling
            failures += not (same and sampled_alike)
            passed = sum(n for (_, ok), n in theirs.items() if ok)
            detail = "" if same else f"\n  promptfoo: {sorted(theirs.items())}\n  steward:   {ours}"
            if not sampled_alike:
                detail += f"\n  promptfoo asked: {their_sampling}\n  steward asked:   {our_sampling}"
            print(
                f"{config.parent.name}: {'same' if same else 'DIFFERENT'} verdicts, "
                f"{'the same' if sampled_alike else 'DIFFERENT'} sampling parameters "
                f"({sum(theirs.values())} results, {passed} passed in promptfoo; {len(their_sampling)} sets of "
                "model, temperature, max_tokens and seed)"
                f"{detail}"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
