"""Where a run's wall time and memory go: one run, with the fake server's counter and the process
tree's RSS sampled every 100 ms.

    python bench/timeline.py --tool steward --n 1000 --concurrency 100 --latency-ms 1000

Prints when the first request reached the server (start-up and suite loading before it), when each
wave of C requests had arrived (a wave taking longer than the latency is CPU spent per wave), when
the process exited (report writing after the last answer), and the RSS at those moments.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import tools
from gen_suite import write_suite
from procs import BENCH, FakeServer, add_load_arguments, tree_rss_bytes

WORK = BENCH / ".work"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", choices=("steward", "promptfoo"), default="steward")
    add_load_arguments(parser, concurrency=100, latency_ms=1000)
    args = parser.parse_args()
    out = WORK / "timeline"
    out.mkdir(parents=True, exist_ok=True)
    with FakeServer(args.latency_ms, WORK / "tmp") as server:
        suite, config = write_suite(args.n, server.base_url, WORK / "suites" / f"timeline-n{args.n}")
        if args.tool == "steward":
            inv = tools.steward(suite, args.concurrency, server.base_url, out, None)
        else:
            inv = tools.promptfoo(config, args.concurrency, out, cache=False)
        start = time.perf_counter()
        proc = subprocess.Popen(inv.cmd, env=inv.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: list[tuple[float, int, float]] = []  # (seconds, requests received, tree RSS MB)
        deadline = start + 600 + args.n * 0.1  # bounded, like every run of the benchmark
        while proc.poll() is None and time.perf_counter() < deadline:
            rss = tree_rss_bytes(proc.pid) / 2**20
            samples.append((time.perf_counter() - start, server.stats()["completions"], rss))
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        end = time.perf_counter() - start
    print(f"{args.tool}: N={args.n} C={args.concurrency} latency={args.latency_ms:.0f} ms, exit {proc.returncode}")
    for k in range(0, args.n + 1, args.concurrency):
        target = max(k, 1)
        hit = next((s for s in samples if s[1] >= target), None)
        if hit:
            print(f"  request #{target:6d} received by {hit[0]:6.2f} s   RSS {hit[2]:6.1f} MB")
    print(f"  exit at {end:6.2f} s; peak RSS {max((s[2] for s in samples), default=0):.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
