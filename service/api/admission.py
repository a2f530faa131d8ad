"""Admission: at most as many requests at the database as it has pooled connections; the rest wait their turn.

A request holds one pooled connection from its first query until its transaction ends, and runs its sync parts
(dependencies, handler) on the threadpool in between, so with more requests in flight than connections some
would hold a thread while waiting for a connection, and others a connection while waiting for a thread. Waiting
here, on the event loop, holds neither. A request that waits longer than the pool timeout gets 503 with
Retry-After instead of a hang.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import busy_response

# Paths that never touch the database: liveness stays answerable while every connection is busy.
_NO_DATABASE = frozenset({"/healthz", "/api/v1/healthz"})


class DatabaseAdmission:
    def __init__(self, app: ASGIApp, *, limit: int, timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self._turns: anyio.Semaphore | None = None  # made inside the event loop, on the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _NO_DATABASE:
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = anyio.Semaphore(self.limit)
        turns = self._turns
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
