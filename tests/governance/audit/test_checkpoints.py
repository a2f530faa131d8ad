"""Checkpoints pin the chain's head: a cut-off tail or a rewritten past no longer matches them."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from governance.audit.checkpoints import SignedCheckpoint, checkpoint_of_head, compare_with_chain, read_document
from governance.audit.models import AuditEvent
from governance.audit.trail import event_hash
from governance.kernel.errors import Conflict, Invalid
from tests.governance.audit.conftest import remove, tamper, write_events


def take(session, chain_key):
    return checkpoint_of_head(session, key=chain_key, signing_key_id="ed25519:test")


def cut_tail(session, after: int) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.seq > after))
    session.expire_all()


def test_a_checkpoint_records_the_verified_head(session, chain, chain_key):
    checkpoint = take(session, chain_key)
    assert (checkpoint.seq, checkpoint.events, checkpoint.head_hash) == (5, 5, chain[-1].hash)
    assert checkpoint.chain_key_id == chain_key.key_id
    comparison = compare_with_chain(session, checkpoint, key=chain_key)
    assert comparison.ok and comparison.problems == []


def test_the_chain_may_grow_after_a_checkpoint(session, chain, chain_key):
    checkpoint = take(session, chain_key)
    write_events(session, 3)
    assert compare_with_chain(session, checkpoint, key=chain_key).ok


def test_deleting_the_newest_events_is_named_by_the_checkpoint(session, chain, chain_key):
    checkpoint = take(session, chain_key)
    cut_tail(session, 2)
    comparison = compare_with_chain(session, checkpoint, key=chain_key)
    # The shorter chain verifies by itself: only the checkpoint shows what is gone.
    assert comparison.chain.ok and not comparison.ok
    assert comparison.problems == [
        f"events 3-5 recorded in the checkpoint of {checkpoint.created_at.isoformat()} are missing: "
        "the newest events were deleted"
    ]


def test_a_cut_tail_followed_by_new_events_is_still_caught(session, chain, chain_key):
    checkpoint = take(session, chain_key)
    cut_tail(session, 2)
    write_events(session, 4)  # seq 3..6 again, sealed properly by someone with the key
    comparison = compare_with_chain(session, checkpoint, key=chain_key)
    assert comparison.chain.ok
    assert len(comparison.problems) == 1 and "event 5 differs from the checkpoint" in comparison.problems[0]


def test_a_past_rewritten_with_the_key_is_caught_by_the_checkpoint(session, chain, chain_key):
    checkpoint = take(session, chain_key)
    events = sorted(chain, key=lambda event: event.seq)
    previous = events[1].hash
    events[2].reason = "rewritten"
    for event in events[2:]:
        event.prev_hash = previous
        event.hash = event_hash(event, chain_key)
        previous = event.hash
    session.flush()
    comparison = compare_with_chain(session, checkpoint, key=chain_key)
    assert comparison.chain.ok and not comparison.ok
    assert "event 5 differs from the checkpoint" in comparison.problems[0]


def test_a_deleted_event_before_the_head_is_counted(session, chain, chain_key):
    checkpoint = take(session, chain_key)
    remove(session, 3)
    comparison = compare_with_chain(session, checkpoint, key=chain_key)
    assert not comparison.chain.ok and comparison.chain.first_bad_seq == 4
    assert "recorded 5 events up to event 5; the chain holds 4" in comparison.problems[0]


def test_no_checkpoint_of_a_broken_chain(session, chain, chain_key):
    tamper(session, 2, subject="forged")
    with pytest.raises(Conflict, match="broken at event 2"):
        take(session, chain_key)


def test_an_empty_chain_has_a_checkpoint_too(session, chain_key):
    checkpoint = take(session, chain_key)
    assert (checkpoint.seq, checkpoint.head_hash) == (0, None)
    assert compare_with_chain(session, checkpoint, key=chain_key).ok


def test_a_document_round_trips_and_a_malformed_one_names_its_fields(session, chain, chain_key):
    signed = SignedCheckpoint(take(session, chain_key), b"\x01\x02")
    assert read_document(signed.document()) == signed
    document = signed.document()
    document["checkpoint"]["seq"] = -1
    document["checkpoint"]["head_hash"] = "nope"
    with pytest.raises(Invalid) as refused:
        read_document(document)
    assert {problem.field for problem in refused.value.problems} == {"checkpoint.seq", "checkpoint.head_hash"}
    with pytest.raises(Invalid) as refused:
        read_document({**signed.document(), "signature": "not base64!"})
    assert refused.value.problems[0].field == "signature"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_cut_of_the_tail_is_caught_and_names_the_missing_events(session, chain_key, data):
    with session.begin_nested() as savepoint:
        count = data.draw(st.integers(min_value=1, max_value=8), label="events")
        write_events(session, count)
        checkpoint = take(session, chain_key)
        write_events(session, data.draw(st.integers(min_value=0, max_value=3), label="later events"))
        keep = data.draw(st.integers(min_value=0, max_value=count - 1), label="kept")
        cut_tail(session, keep)
        comparison = compare_with_chain(session, checkpoint, key=chain_key)
        assert not comparison.ok
        assert comparison.problems[0].startswith(f"events {keep + 1}-{count} recorded in the checkpoint")
        savepoint.rollback()
