"""Where a run's wall time and memory go: one run, with the fake server's counter and the process
tree's RSS sampled every 100 ms.

    python bench/timeline.py --tool steward --n 1000 --concurrency 100 --latency-ms 1000
    python bench/timeline.py --n 1000 --concurrency 50 --latency-ms 50 --poll-ms 3 --runs 5

Prints when the first request reached the server (start-up and suite loading before it), when each
wave of C requests had arrived (a wave taking longer than the latency is CPU spent per wave), when
the process exited (report writing after the last answer), and the RSS at those moments. With
``--runs`` K it runs K times and prints one line per run: the first and last answers and the exit.
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
    parser.add_argument("--poll-ms", type=float, default=100, help="how often the server's counter is read")
    parser.add_argument("--runs", type=int, default=1, help="runs; more than 1 prints one line per run")
    args = parser.parse_args()
    out = WORK / "timeline"
    out.mkdir(parents=True, exist_ok=True)
    with FakeServer(args.latency_ms, WORK / "tmp") as server:
        suite, config = write_suite(args.n, server.base_url, WORK / "suites" / f"timeline-n{args.n}")
        if args.tool == "steward":
            inv = tools.steward(suite, args.concurrency, server.base_url, out, None)
        else:
            inv = tools.promptfoo(config, args.concurrency, out, cache=False)
        for _ in range(args.runs):
            samples, end, code = run_sampled(inv, server, args.n, args.poll_ms, rss=args.runs == 1)
            if args.runs > 1:
                first = next((s[0] for s in samples if s[1] >= 1), float("nan"))
                last = next((s[0] for s in samples if s[1] >= args.n), float("nan"))
                print(f"first answer {first:6.3f} s   last answer {last:6.3f} s   exit {end:6.3f} s   (exit {code})")
    if args.runs > 1:
        return 0
    print(f"{args.tool}: N={args.n} C={args.concurrency} latency={args.latency_ms:.0f} ms, exit {code}")
    for k in range(0, args.n + 1, args.concurrency):
        target = max(k, 1)
        hit = next((s for s in samples if s[1] >= target), None)
        if hit:
            print(f"  request #{target:6d} received by {hit[0]:6.2f} s   RSS {hit[2]:6.1f} MB")
    print(f"  exit at {end:6.2f} s; peak RSS {max((s[2] for s in samples), default=0):.1f} MB")
    return 0


def run_sampled(
    inv: tools.Invocation, server: FakeServer, n: int, poll_ms: float, *, rss: bool
) -> tuple[list[tuple[float, int, float]], float, int]:
    """One run with the server's answer counter (and the tree's RSS, if asked) read every ``poll_ms``."""
    server.reset()
    start = time.perf_counter()
    proc = subprocess.Popen(inv.cmd, env=inv.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, int, float]] = []  # (seconds, answers sent, tree RSS MB)
    deadline = start + 600 + n * 0.1  # bounded, like every run of the benchmark
    while proc.poll() is None and time.perf_counter() < deadline:
        size = tree_rss_bytes(proc.pid) / 2**20 if rss else 0.0
        samples.append((time.perf_counter() - start, server.stats()["completions"], size))
        time.sleep(poll_ms / 1000)
    if proc.poll() is None:
        proc.kill()
    code = proc.wait()
    return samples, time.perf_counter() - start, code


if __name__ == "__main__":
    raise SystemExit(main())
