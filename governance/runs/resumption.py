"""Resuming chunks: what an earlier delivery already recorded, and handing a lease back on a clean stop.

Delivery is at least once, so a chunk can reach a second worker after the first one recorded part of
it. Skipping the executions that already have a result saves their model calls (results are keyed by
(run, case, repeat), so re-running them would only be thrown away). A server that shuts down cleanly
hands its leases back instead of letting them expire, so a restart resumes at once and the
interrupted attempt does not count toward the attempt limit meant for workers that die."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from governance.runs.models import CaseResultRow, ChunkState, RunChunk


def recorded_executions(session: Session, run_id: int, case_ids: Sequence[str]) -> dict[str, int]:
    """How many executions (repeats) of each of ``case_ids`` the run already has a result for.

    Args:
        session: The caller's session.
        run_id: The run.
        case_ids: The cases of one chunk.

    Returns:
        Case id to the number of recorded repeats; cases with none are absent.
    """
    if not case_ids:
        return {}
    rows = session.execute(
        select(CaseResultRow.case_id, func.count())
        .where(CaseResultRow.run_id == run_id, CaseResultRow.case_id.in_(list(case_ids)))
        .group_by(CaseResultRow.case_id)
    ).all()
    return {case_id: count for case_id, count in rows}


def release_chunk(session: Session, chunk_id: int, worker: str) -> bool:
    """Give an unfinished lease back: the chunk is queued again and this attempt does not count.

    Args:
        session: The caller's session.
        chunk_id: The chunk ``worker`` leased.
        worker: The lease owner; a lease another worker took over is left alone.

    Returns:
        False when ``worker`` no longer held the lease.
    """
    result = session.execute(
        update(RunChunk)
        .where(RunChunk.id == chunk_id, RunChunk.lease_owner == worker, RunChunk.state == ChunkState.running.value)
        .values(
            state=ChunkState.queued.value,
            lease_owner=None,
            lease_expires_at=None,
            # a claim counted this attempt; a lease held is always at least one attempt
            attempts=RunChunk.attempts - 1,
        )
    )
    return result.rowcount == 1
