"""The embedded executor in a child process of the server, so suite runs never stall requests.

Testing a release is CPU work in Python: rendering every case, scoring, a fairness analysis of dozens of variants.
In threads of the server it held the interpreter lock the event loop and request threads need: with a publish
being tested, reads slowed to a third (bench/README.md, "Load"). The child runs the same
:class:`~service.workers.embedded.EmbeddedExecutor` on the same database, which is the queue, at a lower CPU
priority (``STEWARD_EMBEDDED_NICE``), so the operating system, not the interpreter lock, shares the cores and
requests come first.

The server tells the child about new chunks through an event (the child also polls, as before); on shutdown it
asks the child to hand back what it is running and waits for it. The child ignores Ctrl+C, which reaches the
whole process group, and leaves on its own if the server process goes away.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Sequence
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event

from service.settings import Settings
from service.workers.embedded import SHUTDOWN_GRACE_SECONDS

log = logging.getLogger("steward.workers")

# The child checks this often whether it was told to stop or lost its parent.
_CHECK_SECONDS = 1.0


class ProcessExecutor:
    """Starts, wakes and stops the child process that executes chunks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or sockets inherited
        self._wake: Event | None = None
        self._stopping: Event | None = None
        self._process: SpawnProcess | None = None

    def submit(self, chunk_ids: Sequence[int]) -> None:
        if chunk_ids and self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        if self._process is not None:
            return
        self._wake, self._stopping = self._context.Event(), self._context.Event()
        self._process = self._context.Process(
            target=execute_in_child,
            args=(self.settings, self._wake, self._stopping, os.getpid()),
            name="steward-executor",
            daemon=True,
        )
        self._process.start()
        log.info("embedded executor started in process %s", self._process.pid)

    def stop(self, grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
        if self._process is None or self._stopping is None or self._wake is None:
            return
        self._stopping.set()
        self._wake.set()
        self._process.join(grace_seconds + 10)
        if self._process.is_alive():
            log.warning("the executor process did not stop in time; terminating it (leases will expire)")
            self._process.terminate()
            self._process.join(5)
        self._process = self._wake = self._stopping = None
        log.info("embedded executor process stopped")

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (for tests and diagnostics)."""
        return self._process.pid if self._process is not None else None


def execute_in_child(settings: Settings, wake: Event, stopping: Event, parent_pid: int) -> None:
    """The child's main: an embedded executor with an engine of its own, until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when this process stops
    if settings.embedded_nice:
        os.nice(settings.embedded_nice)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s[executor]: %(message)s")
    from governance.audit.sealing import install_chain_key
    from service.database import engine_for
    from service.secret_key import audit_chain_key
    from service.workers.embedded import EmbeddedExecutor

    install_chain_key(lambda: audit_chain_key(settings))
    # a connection per chunk thread, plus the dispatcher, a lease keeper and a short write each
    engine = engine_for(settings.database_url, pool_size=2 * settings.embedded_workers + 2)
    executor = EmbeddedExecutor(engine, settings)
    executor.start()
    try:
        while not stopping.is_set() and os.getppid() == parent_pid:
            if wake.wait(_CHECK_SECONDS):
                wake.clear()
                executor.submit([0])  # any id: it only wakes the dispatcher
    finally:
        executor.stop()
        engine.dispose()
