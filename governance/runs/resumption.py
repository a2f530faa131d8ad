"""Resuming chunks: what an earlier delivery already recorded, and handing a lease back on a clean stop.

Delivery is at least once, so a chunk can reach a second worker after the first one recorded part of
it. Skipping the executions that already have a result saves their model calls (results are keyed by
(run, case, repeat), so re-running them would only be thrown away). A server that shuts down cleanly
hands its leases back instead of letting them expire, so a restart resumes at once and the
interrupted attempt does not count toward the attempt limit meant for workers that die."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from governance.runs import repository as runs_repo


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
    return runs_repo.recorded_repeats(session, run_id, case_ids)


def release_chunk(session: Session, chunk_id: int, worker: str) -> bool:
    """Give an unfinished lease back: the chunk is queued again and this attempt does not count.

    Args:
        session: The caller's session.
        chunk_id: The chunk ``worker`` leased.
        worker: The lease owner; a lease another worker took over is left alone.

    Returns:
        False when ``worker`` no longer held the lease.
    """
    return runs_repo.hand_back_lease(session, chunk_id, worker)
