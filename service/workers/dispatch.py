"""Choosing who executes queued runs, and starting and stopping it with the server.

The database is the queue: runs are queued as chunk rows in the same transaction as the change that
caused them, so nothing is lost if the process dies before an executor hears of them. ``submit`` is
only a prompt to start now; every executor also finds queued chunks on its own (at start and
periodically), which is what makes queued runs survive a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import FastAPI
from sqlalchemy import Engine

from service.settings import Settings

log = logging.getLogger("steward.workers")


class Executor(Protocol):
    """Executes queued chunks of runs; ``STEWARD_EXECUTOR`` picks the implementation."""

    def submit(self, chunk_ids: Sequence[int]) -> None:
        """Chunks committed just now: start them soon. Never raises and never blocks on I/O."""
        ...

    def start(self) -> None:
        """Begin executing (and find chunks queued before the start)."""
        ...

    def stop(self) -> None:
        """Stop cleanly: unfinished chunks are handed back or left to their leases."""
        ...


class NoExecutor:
    """Executes nothing: for tests that drive execution by hand, and for read-only deployments."""

    def submit(self, chunk_ids: Sequence[int]) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def make_executor(settings: Settings, engine: Engine) -> Executor:
    """The executor ``settings.executor`` names; nothing starts until :meth:`Executor.start`."""
    if settings.executor == "embedded":
        if settings.embedded_process and not _in_memory(engine):
            from service.workers.embedded_process import ProcessExecutor

            # the child connects to the database this app uses, whatever URL the settings had
            url = engine.url.render_as_string(hide_password=False)
            return ProcessExecutor(settings.model_copy(update={"database_url": url}))
        from service.workers.embedded import EmbeddedExecutor

        return EmbeddedExecutor(engine, settings)
    if settings.executor == "celery":
        from service.workers.celery.dispatch import CeleryExecutor

        return CeleryExecutor(engine, settings)
    return NoExecutor()


def _in_memory(engine: Engine) -> bool:
    """An in-memory SQLite database lives in this process: another process cannot execute its runs."""
    database = engine.url.database or ""
    return engine.url.get_backend_name() == "sqlite" and (database in ("", ":memory:") or "memory" in database)


@asynccontextmanager
async def executor_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The FastAPI lifespan: the app's executor, and the notification pump, run while the server does."""
    executor: Executor = app.state.executor
    executor.start()
    pump = None
    if not isinstance(executor, NoExecutor):
        from service.workers.notifier import NotificationPump

        pump = NotificationPump(app.state.engine, app.state.settings)
        pump.start()
    try:
        yield
    finally:
        # Stopping waits for running chunks to hand back their leases; keep the event loop free meanwhile.
        await asyncio.to_thread(executor.stop)
        if pump is not None:
            await asyncio.to_thread(pump.stop)
