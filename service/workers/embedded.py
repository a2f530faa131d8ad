"""The default executor: threads inside the server process that execute queued chunks from the database.

One dispatcher thread decides what to run; a pool of ``STEWARD_EMBEDDED_WORKERS`` threads runs
chunks, each through :func:`service.workers.execute.execute_chunk` with an event loop of its own.
The dispatcher wakes when a request commits new chunks (``submit``), when a chunk finishes, and every
``STEWARD_EXECUTOR_POLL_SECONDS`` otherwise, so chunks queued while the server was down (or by the CLI)
are found too. It also re-queues chunks whose lease expired, which is how a chunk interrupted by a
crash is resumed, or errored once it has used up its attempts.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Engine

from governance.runs.execution import queued_chunk_ids, requeue_expired
from service.database import begin_reading, unit_of_work
from service.settings import Settings
from service.workers.execute import execute_chunk, new_worker_id
from service.workers.scheduled import run_scheduled_work

log = logging.getLogger("steward.workers")

# On shutdown, running chunks get this long to hand their leases back before the server exits anyway.
SHUTDOWN_GRACE_SECONDS = 15.0


class EmbeddedExecutor:
    """Executes chunks in background threads of the server process; durable because the database is the queue."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.slots = settings.embedded_workers
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[int, Future[bool]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._dispatcher: threading.Thread | None = None
        # Sweeping for expired leases more often than half a lease would find nothing new.
        self._sweep_every = max(0.5, min(settings.lease_seconds / 2, 30.0))

    def submit(self, chunk_ids: Sequence[int]) -> None:
        if chunk_ids:
            self._wake.set()

    def start(self) -> None:
        if self._dispatcher is not None:
            return
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="steward-chunk")
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="steward-executor", daemon=True)
        self._dispatcher.start()
        log.info("embedded executor started: %s chunks at a time", self.slots)

    def stop(self, grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
        if self._dispatcher is None:
            return
        self._stopping.set()
        self._wake.set()
        self._dispatcher.join()
        deadline = time.monotonic() + grace_seconds
        with self._lock:
            running = list(self._running.values())
        for future in running:
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                log.warning("a chunk did not stop within %.0f s; its lease will expire", grace_seconds)
            except Exception:
                pass  # already logged by the chunk's thread
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._dispatcher = self._pool = None
        log.info("embedded executor stopped")

    @property
    def running(self) -> list[int]:
        """Chunks executing right now (for tests and diagnostics)."""
        with self._lock:
            return list(self._running)

    def _dispatch_loop(self) -> None:
        next_sweep = 0.0
        # Scheduled work runs at start too: a server restarted more often than the period must not postpone it.
        next_schedule = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    self._sweep()
                    next_sweep = time.monotonic() + self._sweep_every
                if time.monotonic() >= next_schedule:
                    # Due re-certifications queue runs; this loop executes them like any other.
                    next_schedule = time.monotonic() + self.settings.schedule_seconds
                    run_scheduled_work(self.engine, self.settings)
                self._fill_slots()
            except Exception:
                # The database may be briefly unavailable; the next poll tries again.
                log.exception("embedded executor: dispatching failed; retrying")
            self._wake.wait(self.settings.executor_poll_seconds)
            self._wake.clear()

    def _sweep(self) -> None:
        with unit_of_work(self.engine) as session:
            requeued = requeue_expired(session)
        if requeued:
            log.warning("re-queued chunks whose lease expired: %s", requeued)

    def _fill_slots(self) -> None:
        with self._lock:
            free = self.slots - len(self._running)
            busy = set(self._running)
        if free <= 0:
            return
        with unit_of_work(self.engine) as session:
            begin_reading(session)  # looking for work must not take SQLite's write lock on every poll
            candidates = queued_chunk_ids(session, limit=free + len(busy))
        for chunk_id in [c for c in candidates if c not in busy][:free]:
            if self._stopping.is_set():
                return
            assert self._pool is not None
            with self._lock:
                future = self._pool.submit(self._execute, chunk_id)
                self._running[chunk_id] = future
            future.add_done_callback(functools.partial(self._finished, chunk_id))

    def _execute(self, chunk_id: int) -> bool:
        try:
            return execute_chunk(self.engine, chunk_id, new_worker_id(), self.settings, stop=self._stopping)
        except Exception:
            log.exception("chunk %s: execution failed", chunk_id)
            return False

    def _finished(self, chunk_id: int, future: Future[bool]) -> None:
        with self._lock:
            self._running.pop(chunk_id, None)
        # Look for more work at once after real work; after a miss, wait for the next poll (no busy loop).
        if not future.cancelled() and future.result():
            self._wake.set()
