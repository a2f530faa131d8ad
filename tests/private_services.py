"""Servers of a test's own: PostgreSQL and Redis on their own ports in temporary directories, and `steward serve`.

The shared services other tests use must never be stopped; a test that takes a service away starts one of
these instead. Each is a context manager that stops its server and removes its directory whatever happens.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

POSTGRES_OS_USER = "postgres"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until_accepting(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not accept connections on port {port} within {timeout:.0f} s")


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    if not found:
        on_path = shutil.which("pg_ctl")
        return Path(on_path).parent if on_path and shutil.which("initdb") else None
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster this test owns: ``stop`` and ``start`` it at will."""

    bin_dir: Path
    data_dir: Path
    log_file: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off"
        self._pg_ctl("start", "-w", "-l", str(self.log_file), "-o", options)
        wait_until_accepting(self.port, 30, "the private PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session and shuts down cleanly; ``immediate`` is a crash that recovery undoes."""
        self._pg_ctl("stop", "-w", "-m", mode)

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()


@contextmanager
def private_postgres(port: int) -> Iterator[PrivatePostgres]:
    """Initialise and start a cluster on ``port`` (trust authentication, loopback only); skips if there is none."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH")
    if not port_is_free(port):
        pytest.fail(f"port {port} for the private PostgreSQL is taken (a cluster left from an earlier run?)")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="steward-pg-"))
    try:
        if os.geteuid() == 0:
            # initdb refuses to run as root: the cluster belongs to the postgres OS user.
            try:
                owner = pwd.getpwnam(POSTGRES_OS_USER)
            except KeyError:
                pytest.skip(f"running as root and there is no {POSTGRES_OS_USER!r} OS user to own a cluster")
            os.chown(root, owner.pw_uid, owner.pw_gid)
            as_user = ["runuser", "-u", POSTGRES_OS_USER, "--"]
        cluster = PrivatePostgres(bin_dir, root / "data", root / "postgres.log", port, as_user)
        initdb = [str(bin_dir / "initdb"), "-D", str(cluster.data_dir), "-U", "postgres", "--auth=trust"]
        subprocess.run(
            [*as_user, *initdb, "--encoding=UTF8", "--no-sync", "--no-instructions"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                with suppress(subprocess.SubprocessError):
                    cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A redis-server this test owns, without persistence: ``stop`` and ``start`` it at will."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
                *("--save", "", "--appendonly", "no", "--protected-mode", "yes"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until_accepting(self.port, 20, "the private redis-server")

    def stop(self) -> None:
        """Kill the server: queued messages go with it, as when a broker without persistence is lost."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(port: int) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server on PATH")
    if not port_is_free(port):
        pytest.fail(f"port {port} for the private redis-server is taken (a server left from an earlier run?)")
    directory = Path(tempfile.mkdtemp(prefix="steward-redis-"))
    server = PrivateRedis(directory, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def steward_server(env: dict[str, str], directory: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`steward serve` on a free loopback port with ``env``; yields its base URL and process, stopped at the end."""
    port = free_port()
    log_path = directory / "serve.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("steward")), "serve", "--port", str(port)],
        env=env,
        cwd=directory,  # no stray .env file
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"steward serve exited: {log_path.read_text()}"
            with suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "steward serve did not answer within 30 s"
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
