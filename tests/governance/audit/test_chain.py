"""The hash chain verifies as written, and any edit, deletion or reordering is named at the right event."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit.reading import verify_chain
from governance.audit.trail import GENESIS_HASH, event_hash
from tests.governance.audit.conftest import remove, swap, tamper, write_events


def test_an_empty_trail_verifies(session):
    result = verify_chain(session)
    assert result.ok and result.events == 0 and result.head_hash is None and result.first_bad_seq is None


def test_the_chain_verifies_as_written(session, chain):
    result = verify_chain(session)
    assert result.ok
    assert result.events == 5
    assert result.head_hash == chain[-1].hash
    assert [event.seq for event in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(chain))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "mallory"),
        ("action", "test.forged"),
        ("subject_type", "other"),
        ("subject", "someone else"),
        ("product_slug", "goal-coach"),
        ("before", None),
        ("after", {"n": 2, "text": "e ✓"}),
        ("reason", ""),
    ],
)
def test_editing_a_field_is_detected_at_that_event(session, chain, column, value):
    tamper(session, 3, **{column: value})
    result = verify_chain(session)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.events == 2
    assert "event 3 was altered" in result.problem


def test_editing_the_timestamp_is_detected(session, chain):
    tamper(session, 2, occurred_at=chain[1].occurred_at + timedelta(microseconds=1))
    assert verify_chain(session).first_bad_seq == 2


def test_an_edited_event_resealed_with_a_new_hash_is_caught_at_the_next_one(session, chain, chain_key):
    event = chain[2]
    event.reason = "nothing to see"
    resealed = event_hash(event, chain_key)
    session.expire_all()
    tamper(session, 3, reason="nothing to see", hash=resealed)
    result = verify_chain(session)
    assert result.first_bad_seq == 4
    assert "event 4 does not follow event 3" in result.problem


@pytest.mark.parametrize("seq", [1, 3])
def test_deleting_an_event_is_detected_where_the_chain_jumps(session, chain, seq):
    remove(session, seq)
    result = verify_chain(session)
    assert not result.ok
    assert result.first_bad_seq == seq + 1
    assert result.events == seq - 1
    assert f"event {seq} is missing" in result.problem


def test_swapping_two_events_is_detected_at_the_first_of_them(session, chain):
    swap(session, 2, 3)
    result = verify_chain(session)
    assert not result.ok
    assert result.first_bad_seq == 2
    assert result.events == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_tampering_is_named_at_the_first_event_it_breaks(session, data):
    with session.begin_nested() as savepoint:
        count = data.draw(st.integers(min_value=2, max_value=8), label="events")
        write_events(session, count)
        how = data.draw(st.sampled_from(["edit", "delete", "swap"]), label="how")
        seq = data.draw(st.integers(min_value=1, max_value=count - 1 if how == "swap" else count), label="seq")
        if how == "edit":
            tamper(session, seq, subject="forged")
            expected = seq
        elif how == "delete":
            remove(session, seq)
            # Removing the newest event leaves a shorter chain that still verifies: only an anchored head shows it.
            expected = None if seq == count else seq + 1
        else:
            swap(session, seq, seq + 1)
            expected = seq
        result = verify_chain(session)
        assert result.first_bad_seq == expected
        assert result.ok is (expected is None)
        savepoint.rollback()


def test_a_chain_continues_across_writers_and_actors(session):
    first = write_events(session, 2, actor="alice")
    second = write_events(session, 2, product="goal-coach", actor="bob")
    assert second[0].prev_hash == first[-1].hash
    assert verify_chain(session).events == 4
