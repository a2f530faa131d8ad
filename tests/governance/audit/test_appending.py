"""``appending``: many events in one block still form one verifiable chain, savepoint rollbacks included."""

from __future__ import annotations

import pytest

from governance.audit.reading import verify_chain
from governance.audit.trail import appending, record_event
from tests.governance.audit.conftest import write_events


def test_a_block_writes_many_events_that_verify(session):
    before = write_events(session, 2)
    with appending(session):
        written = write_events(session, 300, product="goal-coach")
    after = write_events(session, 1)
    result = verify_chain(session)
    assert result.ok, result.problem
    assert result.events == 303
    assert [e.seq for e in written] == list(range(3, 303))
    assert written[0].prev_hash == before[-1].hash
    assert after[0].prev_hash == written[-1].hash
    assert result.head_hash == after[0].hash


def test_events_of_a_block_are_written_when_the_block_ends(session):
    with appending(session):
        write_events(session, 3)
        assert session.audit_batch is not None
        with appending(session):  # nested blocks join the outer one
            write_events(session, 2)
        assert session.audit_batch is not None
    assert session.audit_batch is None
    assert not session.new  # flushed by the outermost block
    assert verify_chain(session).events == 5


def test_a_block_that_fails_and_is_rolled_back_leaves_the_trail_usable(session):
    write_events(session, 1)
    savepoint = session.begin_nested()  # what the edge's transaction is to a request
    with pytest.raises(RuntimeError), appending(session):
        write_events(session, 1)
        raise RuntimeError("the change failed")
    assert session.audit_batch is None
    savepoint.rollback()
    (after,) = write_events(session, 1)
    result = verify_chain(session)
    assert result.ok and result.events == 2
    assert after.seq == 2


@pytest.mark.parametrize("flush_inside", [False, True])
def test_a_savepoint_rolled_back_inside_a_block_does_not_break_the_chain(session, flush_inside):
    with appending(session):
        kept = write_events(session, 2)
        savepoint = session.begin_nested()
        write_events(session, 3)
        if flush_inside:
            session.flush()
        savepoint.rollback()
        later = record_event(session, actor="system", action="test.after", subject_type="test", subject="after")
    result = verify_chain(session)
    assert result.ok, result.problem
    assert result.events == 3
    assert later.seq == 3 and later.prev_hash == kept[-1].hash


def test_a_savepoint_released_inside_a_block_keeps_its_events(session):
    with appending(session):
        write_events(session, 1)
        with session.begin_nested():
            write_events(session, 2)
        write_events(session, 1)
    result = verify_chain(session)
    assert result.ok and result.events == 4
