"""Load benchmark of a real ``steward serve``: wrk from outside the process, on SQLite and on PostgreSQL.

For each database the harness makes a fresh database, migrates it, seeds it with ``steward demo`` (which also
takes the reference product's first release live), starts ``steward serve`` as a separate process and drives it
with wrk at each concurrency for four scenarios: ``/healthz``, a product read, a release read, and publishes of
the performance management policy mixed with product reads (one request in ``--publish-every``). Every figure
comes from wrk itself (a Lua ``done`` hook prints its summary as JSON): requests/s, p50/p99 latency, non-2xx/3xx
responses, socket errors and timeouts. The server's log is kept and its error lines counted.

    .venv/bin/python bench/load.py                          # both databases, 1/50/200 connections, 10 s each
    .venv/bin/python bench/load.py --databases sqlite --connections 50 --duration 5
    .venv/bin/python bench/load.py --source /path/to/other/checkout   # the same run against other code

PostgreSQL: ``--postgres-url`` (default ``STEWARD_BENCH_POSTGRES_URL``) names a scratch database; its ``public``
schema is dropped and made again. Results: a Markdown table on stdout and in ``bench/results/load-latest.md``,
raw numbers in ``bench/results/load-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
WORK = BENCH / ".work" / "load"
STEWARD = Path(sys.executable).with_name("steward")
DOCUMENT = "performance-management-policy"
PRODUCT = "goal-coach"
WRK_TIMEOUT = "5s"

# wrk's Lua: every scenario reports through ``done`` as one JSON line; publishes are counted per thread.
LUA_COMMON = r"""
local threads = {}
setup = function(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  local publishes = 0
  for _, t in ipairs(threads) do publishes = publishes + (t:get("publishes") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"publishes":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, publishes))
end
"""

LUA_GET = r"""
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""

LUA_CONDITIONAL = r"""
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["If-None-Match"] = '{etag}'
"""

LUA_MIXED = r"""
local counter = 0
publishes = 0
local read_path = "{read_path}"
local write_path = "{write_path}"
local read_headers = {{["Authorization"] = "Bearer {read_token}"}}
local write_headers = {{["Authorization"] = "Bearer {write_token}", ["Content-Type"] = "application/json"}}
local prefix = [==[{prefix}]==]
local suffix = [==[{suffix}]==]
request = function()
  counter = counter + 1
  if counter % {every} == 0 then
    publishes = publishes + 1
    local body = prefix .. id .. "-" .. counter .. suffix
    return wrk.format("PUT", write_path, write_headers, body)
  end
  return wrk.format("GET", read_path, read_headers)
end
"""


@dataclass
class Row:
    database: str
    scenario: str
    connections: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    timeouts: int
    publishes: int
    publish_p50_ms: float | None = None
    publish_p99_ms: float | None = None
    publish_errors: int = 0


def fresh_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def environment(
    database_url: str,
    var_dir: Path,
    source: Path | None,
    port: int,
    pool_size: int | None,
    settings: list[str] | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(
        STEWARD_DATABASE_URL=database_url,
        STEWARD_VAR_DIR=str(var_dir),
        STEWARD_PORT=str(port),
        STEWARD_SECRET_KEY="bench-secret",
    )
    if pool_size is not None:
        env["STEWARD_DB_POOL_SIZE"] = str(pool_size)
    for setting in settings or []:
        name, _, value = setting.partition("=")
        env[name] = value
    if source is not None:
        env["PYTHONPATH"] = str(source)
        env["STEWARD_PROMPTS_DIR"] = str(source / "prompts")
    return env


def http_json(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def wait_ready(base: str, server: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"steward serve exited with {server.returncode}")
        try:
            http_json(f"{base}/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("steward serve did not answer /healthz in time")


def run_wrk(url: str, script: str, connections: int, duration: int, workdir: Path) -> dict[str, Any]:
    path = workdir / "scenario.lua"
    path.write_text(script)
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={WRK_TIMEOUT}", "-s", str(path)]
    command.append(url)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return dict(json.loads(line.removeprefix("WRKJSON ")))
    raise SystemExit(f"wrk gave no summary: {completed.stdout}\n{completed.stderr}")


def publish_body(base: str, token: str) -> tuple[str, str]:
    """The policy's current content with a marker line where each publish writes its own revision number."""
    content = http_json(f"{base}/api/v1/documents/{DOCUMENT}", token)["content"]
    content["content"] += "\nRevision @@N@@ of the benchmark.\n"
    content["message"] = "benchmark revision"
    prefix, suffix = json.dumps(content).split("@@N@@")
    return prefix, suffix


def live_etag(url: str, token: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.headers["ETag"])


class Publisher(threading.Thread):
    """Publishes the policy at a steady rate while wrk reads: an open loop, as publishes arrive in real use.

    Each publish is timed from when it was due, not from when it was sent, so a publish held up behind a slow
    one counts its wait (no coordinated omission). One keep-alive connection; an answer other than 2xx or a
    failed connection is an error.
    """

    def __init__(self, base: str, token: str, prefix: str, suffix: str, rate: float) -> None:
        super().__init__(name="publisher", daemon=True)
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.prefix, self.suffix, self.interval = prefix, suffix, 1.0 / rate
        self.stopping = threading.Event()
        self.latencies_ms: list[float] = []
        self.errors = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        due = time.monotonic()
        count = 0
        while not self.stopping.wait(max(0.0, due - time.monotonic())):
            count += 1
            body = f"{self.prefix}publisher-{count}{self.suffix}".encode()
            try:
                connection.request("PUT", f"/api/v1/documents/{DOCUMENT}", body, self.headers)
                response = connection.getresponse()
                response.read()
                ok = response.status in (200, 201)
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.latencies_ms.append((time.monotonic() - due) * 1000)
            self.errors += 0 if ok else 1
            due += self.interval
        connection.close()

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def bench_database(name: str, database_url: str, args: argparse.Namespace) -> list[Row]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"load-{name}-", dir=WORK))
    if database_url.startswith("postgresql"):
        fresh_postgres(database_url)
    env = environment(database_url, var_dir, args.source, args.port, args.pool_size, args.server_setting)
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run([str(STEWARD), *step], env=env, check=True, capture_output=True, cwd=args.source or ROOT)
    tokens = json.loads((var_dir / "demo-tokens.json").read_text())
    log = (WORK / f"server-{name}.log").open("wb")
    server = subprocess.Popen(
        [str(STEWARD), "serve", "--port", str(args.port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=args.source or ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    rows: list[Row] = []
    try:
        wait_ready(base, server)
        reader, writer = tokens["olivia"], tokens["paula"]
        release = http_json(f"{base}/api/v1/products/{PRODUCT}", reader)["live_release"]
        prefix, suffix = publish_body(base, writer)
        runtime = tokens.get("coach-app")
        scenarios = {
            "healthz": (f"{base}/healthz", LUA_GET.format(token=reader)),
            "product": (f"{base}/api/v1/products/{PRODUCT}", LUA_GET.format(token=reader)),
            "release": (f"{base}/api/v1/releases/{release}", LUA_GET.format(token=reader)),
            "publish+reads": (f"{base}/api/v1/products/{PRODUCT}", LUA_GET.format(token=reader)),
            "publish 1-in-10": (
                base,
                LUA_MIXED.format(
                    read_path=f"/api/v1/products/{PRODUCT}",
                    write_path=f"/api/v1/documents/{DOCUMENT}",
                    read_token=reader,
                    write_token=writer,
                    prefix=prefix,
                    suffix=suffix,
                    every=args.publish_every,
                ),
            ),
        }
        if runtime is not None:  # a running product revalidating its live release: 304 Not Modified
            live_url = f"{base}/api/v1/products/{PRODUCT}/live"
            scenarios["live (304)"] = (
                live_url,
                LUA_CONDITIONAL.format(token=runtime, etag=live_etag(live_url, runtime)),
            )
        # publish 1-in-10 saturates the writer on purpose (see bench/README.md): run when asked for
        chosen = args.scenarios.split(",") if args.scenarios else [n for n in scenarios if n != "publish 1-in-10"]
        for scenario, (url, lua) in ((name, scenarios[name]) for name in chosen):
            for connections in args.connections:
                publisher = None
                if scenario == "publish+reads":
                    publisher = Publisher(base, writer, prefix, suffix, args.publish_rate)
                    publisher.start()
                try:
                    result = run_wrk(url, LUA_COMMON + lua, connections, args.duration, var_dir)
                finally:
                    if publisher is not None:
                        publisher.stopping.set()
                        publisher.join()
                seconds = result["duration_us"] / 1e6
                row = Row(
                    database=name,
                    scenario=scenario,
                    connections=connections,
                    requests=result["requests"],
                    rps=round(result["requests"] / seconds, 1),
                    p50_ms=round(result["p50_us"] / 1000, 1),
                    p99_ms=round(result["p99_us"] / 1000, 1),
                    max_ms=round(result["max_us"] / 1000, 1),
                    non_2xx=result["status"],
                    socket_errors=result["connect"] + result["read"] + result["write"],
                    timeouts=result["timeout"],
                    publishes=len(publisher.latencies_ms) if publisher else result["publishes"],
                    publish_p50_ms=publisher.percentile(0.5) if publisher else None,
                    publish_p99_ms=publisher.percentile(0.99) if publisher else None,
                    publish_errors=publisher.errors if publisher else 0,
                )
                rows.append(row)
                print(json.dumps(asdict(row)), flush=True)
                time.sleep(1)  # let the server drain what wrk left in flight
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    return rows


def server_error_lines(name: str) -> int:
    path = WORK / f"server-{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return sum(1 for line in text.splitlines() if "ERROR" in line or "Traceback" in line)


def publishes(row: Row) -> str:
    if row.publish_p50_ms is None:
        return str(row.publishes)
    return f"{row.publishes} ({row.publish_p50_ms} / {row.publish_p99_ms} ms, {row.publish_errors} errors)"


def markdown(rows: list[Row], title: str) -> str:
    by_db: dict[str, dict[int, float]] = {}
    for row in rows:
        if row.scenario == "healthz":
            by_db.setdefault(row.database, {})[row.connections] = row.rps
    lines = [
        f"### {title}",
        "",
        "| database | scenario | conns | req/s | % of healthz | p50 ms | p99 ms | max ms | non-2xx | socket errors "
        "| timeouts | publishes (p50 / p99 ms, errors) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        healthz = by_db.get(r.database, {}).get(r.connections) or 0
        share = f"{r.rps / healthz:.0%}" if healthz else "—"
        # wrk counts a timeout only for a request that got an answer late; a server that answers nothing at all
        # shows as zero requests, so say so.
        rate = f"{r.rps:,.0f}" if r.requests else "0: no answer"
        lines.append(
            f"| {r.database} | {r.scenario} | {r.connections} | {rate} | {share} | {r.p50_ms} | {r.p99_ms} | "
            f"{r.max_ms} | {r.non_2xx} | {r.socket_errors} | {r.timeouts} | {publishes(r)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgres", help="Comma-separated: sqlite, postgres.")
    parser.add_argument("--postgres-url", default=os.environ.get("STEWARD_BENCH_POSTGRES_URL"))
    parser.add_argument("--connections", default="1,50,200", help="Comma-separated wrk connection counts.")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run.")
    parser.add_argument(
        "--publish-rate", type=float, default=2.0, help="Publishes per second during publish+reads (an open loop)."
    )
    parser.add_argument(
        "--publish-every", type=int, default=10, help="publish 1-in-10: one publish per this many requests."
    )
    parser.add_argument("--port", type=int, default=8110)
    parser.add_argument(
        "--scenarios",
        default=None,
        help="Comma-separated subset: healthz, product, release, publish+reads, live (304), and (not run unless "
        "named) publish 1-in-10.",
    )
    parser.add_argument("--pool-size", type=int, default=None, help="STEWARD_DB_POOL_SIZE of the server.")
    parser.add_argument(
        "--server-setting",
        action="append",
        metavar="STEWARD_NAME=VALUE",
        help="A setting of the server under load (repeatable), e.g. STEWARD_EXECUTOR=none.",
    )
    parser.add_argument("--source", type=Path, default=None, help="Serve the code of another checkout.")
    parser.add_argument("--title", default="Load benchmark")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for name in args.databases.split(","):
        if name == "sqlite":
            url = f"sqlite:///{WORK / 'bench.db'}"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{WORK / 'bench.db'}{suffix}").unlink(missing_ok=True)
        elif name == "postgres":
            if not args.postgres_url:
                raise SystemExit("--postgres-url or STEWARD_BENCH_POSTGRES_URL names the scratch PostgreSQL database")
            url = args.postgres_url
        else:
            raise SystemExit(f"unknown database {name!r}")
        rows.extend(bench_database(name, url, args))
        print(f"{name}: {server_error_lines(name)} error lines in {WORK / f'server-{name}.log'}", flush=True)
    table = markdown(rows, args.title)
    print(table)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (RESULTS / "load-latest.md").write_text(table)
    (RESULTS / f"load-{stamp}.json").write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
