"""The floor of scenario a for any client on aiohttp: N calls at concurrency C against the fake server, nothing else.

    python bench/bare_client.py --n 1000 --concurrency 50 --latency-ms 50 --repeats 5

C tasks post the same chat completion through one aiohttp session (uvloop, as `steward eval run` uses) and read
the answer; no suite, no rendering, no grading, no report, no start-up (timed inside the process). What it
takes beyond the lower bound ceil(N/C) x latency is the round trip itself: the fake server's parsing and
timers, the client's request and response handling. Prints each repeat's wall and CPU time and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
import uvloop
from procs import BENCH, FakeServer, add_load_arguments, lower_bound_s


async def calls(url: str, n: int, concurrency: int) -> None:
    body = json.dumps({"model": "bench-model", "messages": [{"role": "user", "content": "Case c1: a question"}]})
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
    pending = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker() -> None:
            for _ in pending:
                async with session.post(url, data=body.encode(), headers=headers) as response:
                    response.raise_for_status()
                    await response.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bound = lower_bound_s(args.n, args.concurrency, args.latency_ms)
    walls = []
    with FakeServer(args.latency_ms, BENCH / ".work" / "tmp") as server:
        url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
        for k in range(args.repeats + 1):  # the first is a warm-up: connections, first-call paths
            wall, cpu = time.perf_counter(), time.process_time()
            asyncio.Runner(loop_factory=uvloop.new_event_loop).run(calls(url, args.n, args.concurrency))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if k:
                walls.append(wall)
                print(f"  run {k}: wall {wall:.3f} s ({wall / bound:.2f}x the {bound:.1f} s bound), CPU {cpu:.3f} s")
    median = statistics.median(walls)
    print(
        f"bare aiohttp client, N={args.n} C={args.concurrency} {args.latency_ms:g} ms: median wall {median:.3f} s "
        f"= {median / bound:.2f}x the lower bound"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
