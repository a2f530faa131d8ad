"""The engine package (evals/__init__.py): what importing it costs every run."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_engine_leaves_the_http_client_and_string_matching_for_the_runs_that_need_them() -> None:
    # aiohttp (~0.15 s) is imported at a run's first call, or ahead of it in the background by `steward eval run`;
    # rapidfuzz (~18 ms) where a `similar` assertion or a fairness comparison compares strings; regex where a
    # `rouge-n` assertion tokenizes
    names = ("aiohttp", "rapidfuzz", "openai", "regex")
    code = f"import sys, evals; print(*(name in sys.modules for name in {names!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False"] * len(names)
