"""The unit of work: hooks after commit (never after a rollback), queued chunks handed over once, no plain sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from governance.audit.trail import record_event
from governance.kernel.unit_of_work import DEFAULT_CHUNK_SIZE, UnitOfWork, unit_of


def start_transaction(session: UnitOfWork) -> None:
    session.execute(text("SELECT 1"))


def test_after_commit_hooks_run_once_after_the_commit(session):
    calls = []
    start_transaction(session)
    session.after_commit(lambda: calls.append("first"))
    session.after_commit(lambda: calls.append("second"))
    session.flush()
    assert calls == []  # a flush is not a commit
    session.commit()
    assert calls == ["first", "second"]  # in registration order
    start_transaction(session)
    session.commit()
    assert len(calls) == 2  # handed over once: a later commit does not run them again


def test_after_commit_hooks_are_dropped_on_rollback(session):
    calls = []
    start_transaction(session)
    session.after_commit(lambda: calls.append("dropped"))
    session.rollback()
    start_transaction(session)
    session.after_commit(lambda: calls.append("kept"))
    session.commit()
    assert calls == ["kept"]


def test_a_failing_hook_surfaces_to_the_committer_without_undoing_the_work(session, connection):
    record_event(session, actor="system", action="test.written", subject_type="test", subject="x")

    def failing():
        raise RuntimeError("hook failed")

    session.after_commit(failing)
    with pytest.raises(RuntimeError, match="hook failed"):
        session.commit()
    # The work itself was committed before the hook ran.
    assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1


def test_take_queued_chunks_hands_them_over_once(session):
    assert session.take_queued_chunks() == []
    session.queued_chunks.extend([3, 1, 2])
    assert session.take_queued_chunks() == [3, 1, 2]
    assert session.take_queued_chunks() == []
    assert session.queued_chunks == []


def test_queued_chunks_are_forgotten_on_rollback(session):
    start_transaction(session)
    session.queued_chunks.extend([7, 8])
    session.rollback()
    assert session.take_queued_chunks() == []


def test_a_unit_of_work_carries_its_chunk_size(connection):
    assert UnitOfWork(bind=connection).chunk_size == DEFAULT_CHUNK_SIZE
    work = UnitOfWork(bind=connection, chunk_size=3)
    assert work.chunk_size == 3
    assert unit_of(work) is work


def test_unit_of_refuses_a_plain_session(connection):
    plain = Session(bind=connection)
    with pytest.raises(TypeError, match="UnitOfWork"):
        unit_of(plain)
    # So do the domain functions that need one: nothing is written through a plain session.
    with pytest.raises(TypeError):
        record_event(plain, actor="system", action="test.written", subject_type="test", subject="x")
    assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 0
    plain.close()


def test_a_rolled_back_savepoint_keeps_the_transactions_hooks_and_queued_chunks(session):
    ran: list[str] = []
    session.queued_chunks.extend([7, 8])
    session.after_commit(lambda: ran.append("hook"))
    savepoint = session.begin_nested()
    savepoint.rollback()
    assert session.queued_chunks == [7, 8]
    session.commit()
    assert ran == ["hook"]
