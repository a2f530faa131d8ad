"""Admission: at most as many requests at the database as it has pooled connections; the rest wait their turn.

A request holds one pooled connection from its first query until its transaction ends, and runs its sync parts
(dependencies, handler) on the threadpool in between, so with more requests in flight than connections some
would hold a thread while waiting for a connection, and others a connection while waiting for a thread. Waiting
here, on the event loop, holds neither. A request that waits longer than the pool timeout gets 503 with
Retry-After instead of a hang.

Reads and writes take turns in separate lanes. Every write takes the same lock (SQLite's write lock, the audit
chain's lock on PostgreSQL), so writes go one at a time whatever the pool; in one shared lane, a burst of
publishes waiting for that lock would hold every turn, and reads, which need no lock, would queue behind them.
Writes get ``write_limit`` of the turns (at least one is left for reads), reads the rest.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.deps import READING_METHODS
from service.api.problems import busy_response

# Paths that never touch the database: liveness stays answerable while every connection is busy.
_NO_DATABASE = frozenset({"/healthz", "/api/v1/healthz"})


class DatabaseAdmission:
    def __init__(self, app: ASGIApp, *, limit: int, timeout: float, write_limit: int | None = None) -> None:
        self.app = app
        self.timeout = timeout
        # With a single connection there is nothing to split: reads and writes share one lane.
        self.write_limit = min(write_limit or limit, limit - 1) if limit > 1 else 0
        self.read_limit = limit - self.write_limit
        # made inside the event loop, on the first request
        self._reads: anyio.Semaphore | None = None
        self._writes: anyio.Semaphore | None = None

    def _lane(self, method: str) -> anyio.Semaphore:
        if self._reads is None:
            self._reads = anyio.Semaphore(self.read_limit)
            self._writes = anyio.Semaphore(self.write_limit) if self.write_limit else self._reads
        if method in READING_METHODS:  # their transaction begins as a reader
            return self._reads
        assert self._writes is not None
        return self._writes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _NO_DATABASE:
            await self.app(scope, receive, send)
            return
        turns = self._lane(scope["method"])
        try:
            with anyio.fail_after(self.timeout):
                await turns.acquire()
        except TimeoutError:
            await busy_response(scope["path"])(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            turns.release()
