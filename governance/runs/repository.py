"""Every query of runs: runs, the chunks workers lease, and the case results they write back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Result, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from governance.kernel.errors import NotFound
from governance.kernel.pagination import Page
from governance.kernel.repository import allocate_ids, keyset_page
from governance.releases.models import Release, ReleaseState
from governance.runs.models import CaseResultRow, ChunkState, Run, RunChunk, RunPurpose, RunState

_UNFINISHED_CHUNKS = [ChunkState.queued.value, ChunkState.running.value]
_UNFINISHED_RUNS = [RunState.queued.value, RunState.running.value]


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _rowcount(result: Result[*tuple[Any, ...]]) -> int:
    # UPDATE and INSERT statements return a CursorResult, which knows how many rows they touched.
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


# Runs


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}", field="id")
    return run


def lock_run(session: Session, run_id: int) -> Run:
    """A run, row-locked and re-read: its state decides whether this transaction finishes it."""
    query = select(Run).where(Run.id == run_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()


def runs_of_release(session: Session, release_id: int) -> list[Run]:
    """Every run of a release, oldest first."""
    """The runs a release is decided on (re-certification runs are read through ``runs_by_ids``)."""
    query = select(Run).where(Run.release_id == release_id, Run.purpose == RunPurpose.release.value)
    return list(session.scalars(query.order_by(Run.id)))


def runs_of_release_for(session: Session, release_id: int, purpose: RunPurpose) -> list[Run]:
    """A release's runs of one purpose (e.g. candidate runs), oldest first."""
    query = select(Run).where(Run.release_id == release_id, Run.purpose == purpose.value)
    return list(session.scalars(query.order_by(Run.id)))


def live_release(session: Session, product_id: int) -> Release | None:
    query = select(Release).where(Release.product_id == product_id, Release.state == ReleaseState.live.value)
    return session.scalar(query)


def runs_by_ids(session: Session, run_ids: Sequence[int]) -> list[Run]:
    return list(session.scalars(select(Run).where(Run.id.in_(run_ids)).order_by(Run.id)))


def stalled_run_ids(session: Session) -> list[int]:
    """Unfinished runs none of whose chunks is queued or running any more."""
    open_chunk_runs = select(RunChunk.run_id).where(RunChunk.state.in_(_UNFINISHED_CHUNKS))
    query = select(Run.id).where(Run.state.in_(_UNFINISHED_RUNS), Run.id.not_in(open_chunk_runs))
    return list(session.scalars(query))


def _insert_rows(session: Session, model: type[Run] | type[RunChunk], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their ids in the same order (see ``allocate_ids`` for why two ways)."""
    ids = allocate_ids(session, model.__tablename__, len(rows))
    if ids is None:
        return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))
    session.execute(insert(model), [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)])
    return ids


def insert_runs(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert runs as plain rows in one statement; their ids, in the order of ``rows``."""
    return _insert_rows(session, Run, rows)


def cancel_idle_runs(session: Session, release_ids: Sequence[int], *, now: datetime, error: str) -> None:
    """Cancel the releases' unfinished runs that have no chunk running."""
    still_running = select(RunChunk.run_id).where(RunChunk.state == ChunkState.running.value)
    session.execute(
        update(Run)
        .where(Run.release_id.in_(release_ids), Run.state.in_(_UNFINISHED_RUNS), Run.id.not_in(still_running))
        .values(state=RunState.cancelled.value, finished_at=now, error=error)
        .execution_options(synchronize_session=False)
    )


# Chunks


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        RunChunk.state == ChunkState.queued.value,
        and_(RunChunk.state == ChunkState.running.value, RunChunk.lease_expires_at < now),
    )


def get_chunk(session: Session, chunk_id: int) -> RunChunk:
    chunk = session.get(RunChunk, chunk_id)
    if chunk is None:
        raise NotFound(f"no run chunk with id {chunk_id}", field="id")
    return chunk


def claimable_chunk(session: Session, now: datetime, *, chunk_id: int | None = None) -> RunChunk | None:
    """A queued chunk, or one whose lease expired before ``now``: that one if ``chunk_id``, else the oldest.

    On PostgreSQL the row is locked and rows other workers hold are skipped, so two workers never take one chunk;
    SQLite's transactions start with BEGIN IMMEDIATE, one writer at a time.
    """
    query = select(RunChunk).where(_claimable(now))
    query = query.where(RunChunk.id == chunk_id) if chunk_id is not None else query.order_by(RunChunk.id).limit(1)
    if _postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def claimable_chunk_ids(session: Session, now: datetime, *, limit: int) -> list[int]:
    """Ids of up to ``limit`` chunks a worker could claim at ``now``, oldest first."""
    query = select(RunChunk.id).where(_claimable(now)).order_by(RunChunk.id).limit(limit)
    return list(session.scalars(query))


def lock_chunk(session: Session, chunk_id: int) -> RunChunk:
    """A chunk, row-locked and re-read: its lease decides whether this worker may complete it."""
    query = select(RunChunk).where(RunChunk.id == chunk_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()


def chunks_of_run(session: Session, run_id: int) -> list[RunChunk]:
    return list(session.scalars(select(RunChunk).where(RunChunk.run_id == run_id)))


def expired_chunks(session: Session, now: datetime) -> list[RunChunk]:
    """Running chunks whose lease ended before ``now``: their worker stopped renewing it.

    Locked as they are read (rows a worker is leasing right now are skipped): read without a lock, a chunk a
    worker leased again in between would be queued once more under it, and its execution would stop as "lease
    lost" (PostgreSQL; SQLite's writers take turns).
    """
    query = (
        select(RunChunk)
        .where(RunChunk.state == ChunkState.running.value, RunChunk.lease_expires_at < now)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def _held_lease(chunk_id: int, worker: str) -> ColumnElement[bool]:
    return and_(RunChunk.id == chunk_id, RunChunk.lease_owner == worker, RunChunk.state == ChunkState.running.value)


def extend_lease(session: Session, chunk_id: int, worker: str, *, until: datetime) -> bool:
    """Move the end of ``worker``'s lease on the chunk to ``until``; False when it no longer holds the lease."""
    result = session.execute(update(RunChunk).where(_held_lease(chunk_id, worker)).values(lease_expires_at=until))
    return _rowcount(result) == 1


def hand_back_lease(session: Session, chunk_id: int, worker: str) -> bool:
    """Queue the chunk again without counting the attempt; False when ``worker`` no longer held the lease."""
    result = session.execute(
        update(RunChunk)
        .where(_held_lease(chunk_id, worker))
        .values(
            state=ChunkState.queued.value,
            lease_owner=None,
            lease_expires_at=None,
            # a claim counted this attempt; a lease held is always at least one attempt
            attempts=RunChunk.attempts - 1,
        )
    )
    return _rowcount(result) == 1


def insert_chunks(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert chunks as plain rows in one statement; their ids, in the order of ``rows``."""
    return _insert_rows(session, RunChunk, rows)


def cancel_queued_chunks(session: Session, release_ids: Sequence[int], *, error: str) -> int:
    """Cancel the releases' chunks that no worker has taken yet; how many were cancelled."""
    runs_of_releases = select(Run.id).where(Run.release_id.in_(release_ids))
    result = session.execute(
        update(RunChunk)
        .where(RunChunk.run_id.in_(runs_of_releases), RunChunk.state == ChunkState.queued.value)
        .values(state=ChunkState.cancelled.value, error=error)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


# Case results


def insert_case_results(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert case results, skipping any (run, case, repeat) already written; how many rows were new."""
    insert_into = pg_insert if _postgresql(session) else sqlite_insert
    statement = (
        insert_into(CaseResultRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["run_id", "case_id", "repeat_index"])
    )
    return _rowcount(session.execute(statement))


def case_results_of_run(session: Session, run_id: int) -> list[CaseResultRow]:
    return list(session.scalars(select(CaseResultRow).where(CaseResultRow.run_id == run_id)))


def case_results(session: Session, run_id: int, *, after: int, limit: int) -> Page[CaseResultRow]:
    """A run's case results in the order they were written, after the row id ``after``."""
    query = select(CaseResultRow).where(CaseResultRow.run_id == run_id)
    return keyset_page(session, query, CaseResultRow.id, after=after, limit=limit)


def case_results_page(session: Session, run_id: int, *, after_id: int, limit: int) -> list[CaseResultRow]:
    """Up to ``limit`` of a run's case results after the row id ``after_id``."""
    return case_results(session, run_id, after=after_id, limit=limit).items


def recorded_repeats(session: Session, run_id: int, case_ids: Sequence[str]) -> dict[str, int]:
    """How many results (repeats) the run has of each of ``case_ids``; cases with none are absent."""
    query = (
        select(CaseResultRow.case_id, func.count())
        .where(CaseResultRow.run_id == run_id, CaseResultRow.case_id.in_(list(case_ids)))
        .group_by(CaseResultRow.case_id)
    )
    return dict(session.execute(query).all())
