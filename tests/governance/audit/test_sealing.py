"""Keyed seals: a rewrite needs the chain key, and older unkeyed events may only come before the keyed ones."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from governance.audit.models import AuditEvent
from governance.audit.reading import verify_chain
from governance.audit.resealing import reseal_unkeyed
from governance.audit.sealing import ChainKey, ChainKeyMissing, install_chain_key
from governance.audit.trail import event_hash, sealed_fields
from governance.kernel.canonical import canonical_json
from governance.kernel.errors import Conflict
from tests.governance.audit.conftest import tamper, write_events

OTHER_KEY = ChainKey.derive(b"another server's secret")


def rewrite_from(session, seq: int, *, keep_key_id: bool, **values) -> None:
    """An intruder without the key edits one event and recomputes every later hash with plain SHA-256."""
    if values:
        tamper(session, seq, **values)
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)))
    previous = events[0].prev_hash
    for event in events:
        event.prev_hash = previous
        if not keep_key_id:
            event.key_id = None
        event.hash = hashlib.sha256(canonical_json(sealed_fields(event)).encode()).hexdigest()
        previous = event.hash
    session.flush()
    session.expire_all()


def test_events_are_sealed_with_the_installed_key_and_verified_with_it(session, chain, chain_key):
    assert {event.key_id for event in chain} == {chain_key.key_id}
    assert all(event.hash == event_hash(event, chain_key) for event in chain)
    result = verify_chain(session)
    assert result.ok and result.key_id == chain_key.key_id and result.unkeyed == 0
    assert result.checked == f"seals checked with chain key {chain_key.key_id}"


def test_without_the_key_only_the_links_are_checked_and_it_says_so(session, chain):
    result = verify_chain(session, links_only=True)
    assert result.ok and result.events == 5 and result.key_id is None
    assert result.checked.startswith("links only")


@pytest.mark.parametrize("keep_key_id", [True, False])
def test_an_edit_with_every_later_hash_recomputed_without_the_key_is_detected(session, chain, keep_key_id):
    rewrite_from(session, 3, keep_key_id=keep_key_id, reason="nothing to see")
    # The links hold: that is all an intruder without the key can forge, and all a keyless walk can check.
    assert verify_chain(session, links_only=True).ok
    result = verify_chain(session)
    assert not result.ok and result.first_bad_seq == 3 and result.events == 2
    expected = "its seal does not match" if keep_key_id else "is not sealed with the chain key"
    assert expected in result.problem


def test_a_chain_sealed_with_another_key_names_both_key_ids(session, chain, chain_key):
    result = verify_chain(session, OTHER_KEY)
    assert not result.ok and result.first_bad_seq == 1
    assert chain_key.key_id in result.problem and OTHER_KEY.key_id in result.problem


def test_unkeyed_events_verify_without_the_key_and_break_a_verification_with_it(session, chain_key):
    write_events_unkeyed(session, 3)
    write_events(session, 2)
    keyless = verify_chain(session, links_only=True)
    assert keyless.ok and keyless.events == 5 and keyless.unkeyed == 3
    # Else a chain rewritten from its first event without the key would pass.
    keyed = verify_chain(session)
    assert not keyed.ok and keyed.first_bad_seq == 1 and "not sealed with the chain key" in keyed.problem
    tamper(session, 2, subject="forged")
    assert verify_chain(session, links_only=True).first_bad_seq == 2


def test_resealing_seals_older_events_once_and_records_the_head_it_replaced(session, chain_key):
    older = write_events_unkeyed(session, 3)
    write_events(session, 1)
    old_head = verify_chain(session, links_only=True).head_hash
    result = reseal_unkeyed(session, "ada", chain_key)
    assert (result.unkeyed, result.events, result.old_head_hash) == (3, 4, old_head)
    verified = verify_chain(session)
    assert verified.ok and verified.events == 5 and verified.unkeyed == 0
    resealed = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert resealed.action == "audit.resealed" and resealed.actor == "ada"
    assert resealed.before == {"head_hash": old_head, "unkeyed_events": 3}
    assert [event.subject for event in older] == ["subject-0", "subject-1", "subject-2"]
    again = reseal_unkeyed(session, "ada", chain_key)
    assert again.unkeyed == 0 and verify_chain(session).events == 5


def test_resealing_refuses_a_chain_that_does_not_verify(session, chain_key):
    write_events_unkeyed(session, 3)
    tamper(session, 2, subject="forged")
    with pytest.raises(Conflict, match="broken at event 2"):
        reseal_unkeyed(session, "ada", chain_key)


def test_an_unkeyed_event_after_a_keyed_one_is_a_break(session, chain):
    rewrite_from(session, 5, keep_key_id=False)
    result = verify_chain(session)
    assert result.first_bad_seq == 5
    assert "event 5 is not sealed with the chain key" in result.problem


def test_appending_without_an_installed_key_fails_instead_of_writing_an_unsealed_event(session):
    install_chain_key(None)
    with pytest.raises(ChainKeyMissing):
        write_events(session, 1)


def test_a_key_source_is_asked_once_on_first_use(session, chain_key):
    asked = []
    install_chain_key(lambda: asked.append(1) or chain_key)
    write_events(session, 2)
    assert asked == [1]


def test_the_subkey_is_not_the_server_secret_and_its_id_reveals_neither():
    key = ChainKey.derive(b"secret")
    assert key.secret != b"secret" and len(key.secret) == 32
    assert key.key_id == ChainKey.derive(b"secret").key_id != OTHER_KEY.key_id
    assert "secret" not in repr(key)


def write_events_unkeyed(session, count: int) -> list[AuditEvent]:
    """Events as a Steward before keyed seals wrote them: the same fields, plain SHA-256, no key id."""
    events = write_events(session, count)
    previous = events[0].prev_hash
    for event in events:
        event.key_id, event.prev_hash = None, previous
        event.hash = event_hash(event)
        previous = event.hash
    session.flush()
    return events


FIELDS = st.sampled_from(["actor", "action", "subject_type", "subject", "product_slug", "reason"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_field_edit_resealed_without_the_key_is_named_where_it_was_made(session, data):
    with session.begin_nested() as savepoint:
        count = data.draw(st.integers(min_value=1, max_value=8), label="events")
        write_events(session, count)
        seq = data.draw(st.integers(min_value=1, max_value=count), label="seq")
        column = data.draw(FIELDS, label="column")
        rewrite_from(session, seq, keep_key_id=data.draw(st.booleans(), label="keep key id"), **{column: "forged"})
        result = verify_chain(session)
        assert not result.ok and result.first_bad_seq == seq
        savepoint.rollback()
