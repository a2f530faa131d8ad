"""The engine alone, in a warm process: scenario b without the command's start-up.

`steward eval run` pays its imports (about 0.85 s of CPU since the openai provider no longer imports the
SDK) before its first request. A server or a `steward worker` pays that once per process, not per run.
This measures what every run costs there: `evals.run_suite` against the fake server, with the HTTP client
already imported, N=1000, C=100, 1,000 ms latency, median of 3, and the ratio to the lower bound
ceil(N/C) x latency.

    .venv/bin/python bench/engine_inprocess.py [--n 1000] [--concurrency 100] [--latency-ms 1000]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp  # noqa: F401  (imported up front on purpose: a warm worker process has it already)

from evals import ProviderConfig, RunOptions, load_suite, run_suite_sync

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_suite import write_suite  # noqa: E402
from procs import add_load_arguments, lower_bound_s  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser, concurrency=100, latency_ms=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--uvloop", action="store_true", help="Run the engine on uvloop, as the CLI does when installed."
    )
    args = parser.parse_args()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai.py"), "--port", str(port), "--latency-ms", str(args.latency_ms)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as work:
            suite_path, _ = write_suite(args.n, base_url, Path(work))
            suite = load_suite(suite_path)
            templates = {suite.prompt: (suite_path.parent / suite.prompt).read_text()}
            config = ProviderConfig(openai_base_url=base_url, openai_api_key="bench")
            options = RunOptions(provider="openai:bench-model", concurrency=args.concurrency, use_cache=False)
            walls = []
            loop_factory = None
            if args.uvloop:
                import uvloop

                loop_factory = uvloop.new_event_loop
            for _ in range(args.repeats):
                started = time.perf_counter()
                report = run_suite_sync(
                    suite, templates=templates, options=options, provider_config=config, loop_factory=loop_factory
                )
                walls.append(time.perf_counter() - started)
                assert report.summary.status == "passed", report.summary
    finally:
        server.terminate()
        server.wait(timeout=10)
    bound = lower_bound_s(args.n, args.concurrency, args.latency_ms)
    median = statistics.median(walls)
    print("| N | C | latency | runs (s) | median wall s | lower bound s | x lower bound |")
    print("|---:|---:|---:|---|---:|---:|---:|")
    runs = ", ".join(f"{w:.2f}" for w in walls)
    print(
        f"| {args.n} | {args.concurrency} | {args.latency_ms:g} ms | {runs} | {median:.2f} | {bound:.1f} | "
        f"{median / bound:.3f} |"
    )


if __name__ == "__main__":
    main()
