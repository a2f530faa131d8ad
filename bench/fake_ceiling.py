"""Measure the fake server's own ceiling, so we know it is not what limits the tools.

A raw-asyncio load generator keeps C keep-alive connections busy for a fixed time and counts the
completions; the server's CPU time per request (from /proc) gives its single-core ceiling
independently of how much CPU the load generator itself took from the shared cores.

    python bench/fake_ceiling.py --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from procs import BENCH, FakeServer

BODY = json.dumps(
    {
        "model": "bench-model",
        "messages": [{"role": "user", "content": "Case case-00001: how do I set a goal?"}],
        "temperature": 0,
        "max_tokens": 64,
    }
).encode()


def request_bytes(port: int) -> bytes:
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer bench\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY


async def worker(port: int, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = request_bytes(port)
    try:
        while time.perf_counter() < deadline:
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:40])
            counts[0] += 1
    finally:
        writer.close()


async def load(port: int, concurrency: int, seconds: float) -> int:
    counts = [0]
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(worker(port, deadline, counts) for _ in range(concurrency)))
    return counts[0]


def measure(latency_ms: float, concurrency: int, seconds: float) -> dict:
    with FakeServer(latency_ms, BENCH / ".work" / "tmp") as server:
        asyncio.run(load(server.port, 4, 0.3))  # warm-up
        server.reset()
        cpu0, t0 = server.cpu_s(), time.perf_counter()
        done = asyncio.run(load(server.port, concurrency, seconds))
        wall, cpu = time.perf_counter() - t0, server.cpu_s() - cpu0
        stats = server.stats()
    per_req_us = cpu / max(done, 1) * 1e6
    ideal = concurrency / (latency_ms / 1000) if latency_ms else None
    return {
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "requests": done,
        "server_counted": stats["completions"],
        "req_per_s": round(done / wall, 1),
        "ideal_req_per_s": round(ideal, 1) if ideal else None,
        "server_cpu_us_per_req": round(per_req_us, 1),
        "server_ceiling_req_per_s_one_core": round(1e6 / per_req_us) if per_req_us else None,
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "| latency | C | req/s observed | ideal C/latency | server CPU µs/req | server ceiling (1 core) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ideal = f"{r['ideal_req_per_s']:.0f}" if r["ideal_req_per_s"] else "—"
        lines.append(
            f"| {r['latency_ms']:.0f} ms | {r['concurrency']} | {r['req_per_s']:.0f} | {ideal} | "
            f"{r['server_cpu_us_per_req']:.0f} | {r['server_ceiling_req_per_s_one_core']} req/s |"
        )
    return "\n".join(lines)


# 0 ms: the server's raw capacity; 50 and 1000 ms: the latencies the scenarios use.
GRID = ((0.0, 50), (0.0, 100), (0.0, 200), (50.0, 50), (50.0, 100), (50.0, 200), (1000.0, 100))


def ceiling(seconds: float) -> list[dict]:
    return [measure(latency, conc, seconds) for latency, conc in GRID]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args()
    rows = ceiling(args.seconds)
    print(markdown(rows))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
