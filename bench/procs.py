"""Process helpers for the benchmark: run a command and measure its whole process tree.

Peak RSS is the highest *sum* of resident memory over the process and all its descendants, polled
from /proc (so node under npx, or any worker a tool forks, is counted). ``wait4`` adds the CPU time
of the tree and the largest single process's ``ru_maxrss`` as a cross-check that polling missed no
short spike of the main process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
CLK_TCK = os.sysconf("SC_CLK_TCK")
BENCH = Path(__file__).resolve().parent


def add_load_arguments(
    parser: argparse.ArgumentParser, *, n: int = 1000, concurrency: int = 50, latency_ms: float = 50
) -> None:
    """``--n``, ``--concurrency`` and ``--latency-ms``: the load a script puts on the fake server."""
    parser.add_argument("--n", type=int, default=n, help=f"cases (default {n})")
    parser.add_argument("--concurrency", type=int, default=concurrency, help=f"calls in flight (default {concurrency})")
    parser.add_argument(
        "--latency-ms", type=float, default=latency_ms, help=f"the server's latency (default {latency_ms:g})"
    )


def lower_bound_s(calls: int, concurrency: int, latency_ms: float) -> float:
    """ceil(calls / C) x latency: the wall time of any client that keeps C calls in flight, with nothing else to do."""
    return math.ceil(calls / concurrency) * latency_ms / 1000


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_rss_mb: float  # polled sum over the tree
    max_single_rss_mb: float  # wait4 ru_maxrss: the largest process of the tree
    cpu_s: float  # user + system of the tree
    timed_out: bool
    stdout: str
    stderr: str


def children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return kids


def tree_rss_bytes(root: int) -> int:
    """Resident memory summed over ``root`` and its descendants, each address space counted once.

    A child made by ``vfork`` (what Python's subprocess uses, e.g. for the ``uname -p`` that
    ``platform.platform()`` runs when the openai SDK builds its headers) runs in its parent's address
    space until it execs: /proc shows it with the parent's very statm, and adding it would count the
    parent twice (a 125 MB Steward read as 251 MB). Such a child is skipped; once it has exec'd it
    has its own memory and counts.
    """
    total, stack, seen = 0, [(root, "")], set()
    while stack:
        pid, parent_statm = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as fh:
                statm = fh.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if statm != parent_statm:
            total += int(statm.split()[1]) * PAGE
        stack.extend((kid, statm) for kid in children(pid))
    return total


def cpu_seconds(pid: int) -> float:
    """utime + stime of one live process (used for the fake server, which we do not reap)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path, timeout_s: float, poll_s: float = 0.02) -> Measured:
    out_path, err_path = cwd / ".stdout.log", cwd / ".stderr.log"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        # A new session so that a timeout can stop the whole tree (npx -> node) and nothing else.
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        peak = 0
        done = threading.Event()
        timed_out = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(proc.pid))
                if time.perf_counter() - start > timeout_s and not timed_out.is_set():
                    timed_out.set()
                    os.killpg(proc.pid, signal.SIGKILL)
                time.sleep(poll_s)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        # wait4 (not Popen.wait) so we get the rusage of the child and its reaped descendants.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        returncode=proc.returncode,
        wall_s=wall,
        peak_rss_mb=peak / 2**20,
        max_single_rss_mb=usage.ru_maxrss / 1024,
        cpu_s=usage.ru_utime + usage.ru_stime,
        timed_out=timed_out.is_set(),
        stdout=out_path.read_text(errors="replace")[-4000:],
        stderr=err_path.read_text(errors="replace")[-4000:],
    )


class FakeServer:
    """Starts bench/fake_openai.py on a free loopback port; stops it on exit."""

    def __init__(self, latency_ms: float, workdir: Path) -> None:
        self.latency_ms = latency_ms
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def __enter__(self) -> FakeServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / f"fake-{os.getpid()}-{time.monotonic_ns()}.port"
        cmd = [sys.executable, str(BENCH / "fake_openai.py"), "--port", "0"]
        cmd += ["--latency-ms", str(self.latency_ms), "--ready-file", str(ready)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):  # bounded: 10 s
            if ready.exists():
                self.port = int(ready.read_text())
                ready.unlink()
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("the fake OpenAI server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, method: str, path: str) -> dict:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        # The harness must never pick up a proxy for loopback traffic.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, data=b"" if method == "POST" else None, timeout=5) as resp:
            return json.loads(resp.read() or b"{}")

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def cpu_s(self) -> float:
        assert self.proc is not None
        return cpu_seconds(self.proc.pid)
