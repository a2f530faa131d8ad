"""Profile one `steward eval run` against the fake server with cProfile (for the engine's owner).

    python bench/profile_steward.py --n 1000 --concurrency 50 --latency-ms 50

Writes bench/.work/profile/steward.prof (open with `python -m pstats` or snakeviz) and prints the
top functions by own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import io
import pstats
import subprocess
import sys
import time

import tools
from gen_suite import write_suite
from procs import BENCH, FakeServer, add_load_arguments

WORK = BENCH / ".work"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    out = WORK / "profile"
    out.mkdir(parents=True, exist_ok=True)
    prof = out / "steward.prof"
    with FakeServer(args.latency_ms, WORK / "tmp") as server:
        suite, _ = write_suite(args.n, server.base_url, WORK / "suites" / f"profile-n{args.n}")
        inv = tools.steward(suite, args.concurrency, server.base_url, out, None)
        # The console script is a Python file: run it under cProfile in the same interpreter.
        cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), *inv.cmd]
        start = time.perf_counter()
        done = subprocess.run(cmd, env=inv.env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - start
        calls = server.stats()["completions"]
    print(f"exit {done.returncode}, {wall:.2f}s wall under cProfile, {calls} provider calls")
    if done.returncode not in (0, 1):
        print(done.stderr[-3000:])
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(str(prof), stream=buf).sort_stats(key).print_stats(args.top)
        print(f"--- top {args.top} by {key} ---")
        print(buf.getvalue().split("\n\n", 1)[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
