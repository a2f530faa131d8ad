"""Executing one chunk: the one code path that the embedded executor and Celery workers share.

A chunk is leased in a short transaction, its cases run through the eval engine outside any
transaction, and results are written in batches, each batch in a transaction of its own that also
renews the lease. A task between the batches renews the lease too, so one slow model call does not
lose it. If the lease is lost (the worker stalled past it and another one took the chunk over), this
execution stops and writes nothing more. Delivery is at least once: a chunk can be executed again after
its worker died, and a redelivery skips the cases that already have results.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from evals import (
    CaseResult,
    EvalConfigError,
    ProviderConfig,
    Report,
    RunOptions,
    Suite,
    SuiteError,
    parse_suite,
    run_suite,
)
from governance.kernel.unit_of_work import UnitOfWork
from governance.runs.execution import (
    ChunkWork,
    chunk_work,
    claim_chunk,
    complete_chunk,
    judge_run,
    record_results,
    record_verdict,
    renew_lease,
    run_of_chunk,
)
from governance.runs.resumption import recorded_executions, release_chunk
from service.database import begin_reading, session_factory, transaction
from service.settings import Settings

log = logging.getLogger("steward.workers")

# How often the lease keeper checks for a stop request; renewals happen every third of a lease.
_STOP_CHECK_SECONDS = 0.25


def new_worker_id() -> str:
    """A lease owner name unique to one execution: host and process say where it ran."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def provider_config(settings: Settings) -> ProviderConfig:
    """The eval engine's connection settings, from Steward's settings (as `steward eval run` builds them)."""
    return ProviderConfig(
        openai_base_url=settings.openai_base_url,
        openai_api_key=settings.openai_api_key,
        judge=settings.judge_provider,
        judge_prompts_dir=settings.prompts_dir / "judges",
    )


UnitFactory = Callable[[], UnitOfWork]
"""Opens a unit of work: a session factory bound to the database (or, in tests, to the test's transaction)."""


def execute_chunk(
    engine: Engine,
    chunk_id: int | None,
    worker: str,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
) -> bool:
    """Lease, run and finish one chunk in ``engine``'s database; see :func:`execute_chunk_with`."""
    return execute_chunk_with(session_factory(engine), chunk_id, worker, settings, stop=stop)


def execute_chunk_with(
    units: UnitFactory,
    chunk_id: int | None,
    worker: str,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
) -> bool:
    """Lease a chunk, run its cases, record their results and finish the chunk.

    A configuration problem (a template that does not compile, an unknown provider), a fatal provider
    error or any case that ends in error finishes the chunk as an error: its run becomes ``error`` and
    the release ``failed``, never ``passed``. A database failure leaves the lease to expire, so the
    chunk is tried again (up to the attempt limit).

    Args:
        units: Opens each short transaction (a session factory).
        chunk_id: The chunk to take; None takes the oldest claimable one.
        worker: The lease owner name (see :func:`new_worker_id`).
        settings: Lease length, model concurrency and provider settings.
        stop: Set it to stop early (the server is shutting down): the lease is handed back unfinished.

    Returns:
        True when a chunk was leased (whatever became of it); False when there was none to take.
    """
    with transaction(units) as session:
        chunk = claim_chunk(session, worker, chunk_id=chunk_id, lease_seconds=settings.lease_seconds)
        if chunk is None:
            return False
        claimed = chunk.id
    log.info("chunk %s leased by %s (attempt %s)", claimed, worker, chunk.attempts)
    execution = ChunkExecution(units, claimed, worker, settings, stop)
    try:
        execution.run()
    except DBAPIError:
        log.exception("chunk %s: the database failed; the lease will expire and the chunk be tried again", claimed)
    return True


@dataclass
class ChunkExecution:
    """One attempt at one chunk, from reading its work to completing (or giving back) its lease."""

    units: UnitFactory
    chunk_id: int
    worker: str
    settings: Settings
    stop: threading.Event | None = None
    lost: bool = False
    stopped: bool = False
    run_id: int = 0
    executions: int = 0
    errors: list[CaseResult] = field(default_factory=list)
    cancel: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        try:
            with transaction(self.units) as session:
                begin_reading(session)
                work = chunk_work(session, self.chunk_id)
                recorded = recorded_executions(session, work.run_id, work.case_ids)
            self.run_id = work.run_id
            suite = parse_suite(work.spec, source=f"run {work.run_id}")
            repeats = {case.id: case.repeat or 1 for case in suite.cases}
            todo = [case_id for case_id in work.case_ids if recorded.get(case_id, 0) < repeats.get(case_id, 1)]
            report = asyncio.run(self._run_suite(work, suite, todo)) if todo else None
        except DBAPIError:
            raise
        except Exception as exc:  # a suite or template that cannot run is the chunk's error, never a pass
            log.warning("chunk %s failed: %s", self.chunk_id, exc)
            known = isinstance(exc, (EvalConfigError, SuiteError))
            self._complete(str(exc) if known else f"{type(exc).__name__}: {exc}")
            return
        if self.lost:
            log.warning("chunk %s: lease lost to another worker; this execution stops", self.chunk_id)
            return
        if report is not None and self.stopped and report.summary.cancelled:
            with transaction(self.units) as session:
                release_chunk(session, self.chunk_id, self.worker)
            log.info("chunk %s handed back unfinished (shutting down)", self.chunk_id)
            return
        self._complete(self._error_of(report))

    def _error_of(self, report: Report | None) -> str | None:
        if report is not None and report.not_run and report.summary.error:
            return report.summary.error  # the run stopped early, e.g. the provider could not start
        if self.errors:
            first = self.errors[0]
            return (
                f"{len(self.errors)} of {self.executions} case executions errored; "
                f"first: {first.case_id}#{first.repeat_index}: {first.error}"
            )
        return None

    def _complete(self, error: str | None) -> None:
        with transaction(self.units) as session:
            completed = complete_chunk(session, self.chunk_id, self.worker, error=error, finish_run=False)
        if not completed:
            log.warning("chunk %s: lease lost before it could be completed", self.chunk_id)
            return
        log.info("chunk %s %s", self.chunk_id, f"errored: {error}" if error else "done")
        self._finish_run()

    def _finish_run(self) -> None:
        """Finish the run if this was its last chunk: judged while reading, then written in a short write."""
        with transaction(self.units) as session:
            begin_reading(session)
            run_id = self.run_id or run_of_chunk(session, self.chunk_id)
            verdict = judge_run(session, run_id)
        if verdict is not None:
            with transaction(self.units) as session:
                record_verdict(session, verdict)

    async def _run_suite(self, work: ChunkWork, suite: Suite, case_ids: list[str]) -> Report:
        self.cancel = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        # A thread, not a task: an event loop busy importing a provider SDK or grading must not lose the lease.
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(done,), name=f"lease-{self.chunk_id}", daemon=True)
        keeper.start()
        try:
            return await run_suite(
                suite,
                templates=work.templates,
                extra_vars=work.extra_vars,
                options=RunOptions(
                    provider=work.provider,
                    concurrency=self.settings.resolved_worker_concurrency,
                    use_cache=False,
                    template_limits=self.settings.template_limits,
                ),
                provider_config=provider_config(self.settings),
                on_results=self._write,
                case_ids=case_ids,
                cancel=self.cancel,
            )
        finally:
            done.set()
            await asyncio.to_thread(keeper.join)

    async def _write(self, batch: list[CaseResult]) -> None:
        if self.lost:
            return
        self.executions += len(batch)
        self.errors.extend(result for result in batch if result.outcome == "error")
        if not await asyncio.to_thread(self._write_batch, batch):
            self._interrupt(lost=True)

    def _write_batch(self, batch: list[CaseResult]) -> bool:
        with transaction(self.units) as session:
            # Renew first: a worker that lost its lease must not write evidence for a chunk it no longer owns.
            if not renew_lease(session, self.chunk_id, self.worker, self.settings.lease_seconds):
                return False
            record_results(session, self.run_id, batch)
        return True

    def _keep_lease(self, done: threading.Event) -> None:
        interval = self.settings.lease_seconds / 3
        renew_at = time.monotonic() + interval
        while not done.wait(min(_STOP_CHECK_SECONDS, interval)):
            if self.stop is not None and self.stop.is_set():
                self._interrupt(lost=False)
                return
            if time.monotonic() < renew_at:
                continue
            try:
                with transaction(self.units) as session:
                    held = renew_lease(session, self.chunk_id, self.worker, self.settings.lease_seconds)
            except DBAPIError:
                # Keep going: if the database stays away past the lease, the next renewal reports it lost.
                log.warning("chunk %s: lease renewal failed; retrying", self.chunk_id, exc_info=True)
                held = True
            if not held:
                self._interrupt(lost=True)
                return
            renew_at = time.monotonic() + interval

    def _interrupt(self, *, lost: bool) -> None:
        """Stop the run: the lease is gone (``lost``), or this process is shutting down."""
        if lost:
            self.lost = True
        else:
            self.stopped = True
        if self._loop is not None and self.cancel is not None:  # both are set before the lease keeper starts
            self._loop.call_soon_threadsafe(self.cancel.set)
