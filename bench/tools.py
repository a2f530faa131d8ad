"""How each tool is invoked against the fake server, and how its report is checked.

Both tools get the same suite, concurrency and server; each writes a JSON report, which we read
back only to verify that every case really ran and passed (a fast run that errored is no result).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from setup_promptfoo import PROMPTFOO_PREFIX, node_bin, node_env, promptfoo_entry


@dataclass
class Invocation:
    cmd: list[str]
    env: dict[str, str]
    report: Path


def steward_bin() -> Path:
    # The console script of the venv that runs the benchmark (make bench uses .venv/bin/python).
    return Path(sys.executable).parent / "steward"


def steward(
    suite: Path,
    concurrency: int,
    base_url: str,
    out: Path,
    cache: Path | None,
    providers: int = 1,
    junit: bool = False,
) -> Invocation:
    """``cache=None`` runs with --no-cache; otherwise the cache file to read and fill.

    ``providers`` > 1 names that many models (``--provider`` repeated: a matrix); ``junit`` also writes JUnit.
    """
    report = out / "steward.json"
    cmd = [str(steward_bin()), "eval", "run", str(suite)]
    for k in range(providers):
        cmd += ["--provider", "openai:bench-model" + (f"-{k + 1}" if k else "")]
    cmd += ["--concurrency", str(concurrency), "--json", str(report)]
    if junit:
        cmd += ["--junit", str(out / "steward.xml")]
    env = dict(os.environ)
    env.update(
        STEWARD_OPENAI_BASE_URL=base_url,
        STEWARD_OPENAI_API_KEY="bench",
        # The standard variables too, in case a code path reads them directly.
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="bench",
        NO_COLOR="1",
    )
    if cache is None:
        cmd.append("--no-cache")
        cache = out / "unused-cache.sqlite"  # never the user's default cache, even if ignored
    env["STEWARD_EVAL_CACHE_PATH"] = str(cache)
    return Invocation(cmd, env, report)


def promptfoo(config: Path, concurrency: int, out: Path, cache: bool, via_npx: bool = False) -> Invocation:
    report = out / "promptfoo.json"
    # Direct `node entrypoint.js` by default: npx adds a ~50 MB npm process to the tree that is
    # not promptfoo's own cost (--via-npx measures the documented `npx promptfoo eval` instead).
    if via_npx:  # npx resolves the promptfoo installed under our prefix, never the network
        npx = shutil.which("npx") or "npx"
        launcher = [npx, "--no-install", "--prefix", str(PROMPTFOO_PREFIX), "promptfoo"]
    else:
        launcher = [str(node_bin()), str(promptfoo_entry())]
    cmd = [*launcher, "eval", "-c", str(config), "--max-concurrency", str(concurrency)]
    # No table and no progress bar: the least work for promptfoo beside the eval itself.
    cmd += ["-o", str(report), "--no-table", "--no-progress-bar"]
    if not cache:
        cmd.append("--no-cache")
    return Invocation(cmd, node_env(), report)


def count_outcomes(tool: str, report: Path) -> dict[str, int] | None:
    """passed/failed/errors from a tool's JSON report, or None if it is missing or unreadable."""
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return None
    if tool == "promptfoo":
        stats = data.get("results", {}).get("stats", {})
        return {
            "passed": stats.get("successes", 0),
            "failed": stats.get("failures", 0),
            "errors": stats.get("errors", 0),
        }
    return steward_outcomes(data)


def steward_outcomes(data: dict) -> dict[str, int] | None:
    counts = (data.get("summary") or {}).get("counts")
    if not isinstance(counts, dict):
        return None
    return {k: counts.get(k, 0) for k in ("passed", "failed", "errors", "cached")}
