"""In-process events: handlers run in subscription order, in the publisher's session, and their errors propagate."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from governance.audit.reading import verify_chain
from governance.audit.trail import record_event
from governance.kernel.events import handlers_of, publish, subscribe


# A fresh event type per test: the registry is process-wide and the domain's own handlers must stay untouched.
def new_event_type():
    @dataclass(frozen=True)
    class Happened:
        what: str

    return Happened


def test_handlers_run_in_the_order_they_subscribed():
    event_type = new_event_type()
    calls: list[tuple[str, str]] = []

    @subscribe(event_type)
    def first(session, event):
        calls.append(("first", event.what))

    @subscribe(event_type)
    def second(session, event):
        calls.append(("second", event.what))

    @subscribe(event_type)
    def third(session, event):
        calls.append(("third", event.what))

    publish(object(), event_type("x"))
    assert calls == [("first", "x"), ("second", "x"), ("third", "x")]
    assert handlers_of(event_type) == [first, second, third]


def test_subscribing_the_same_handler_twice_registers_it_once():
    event_type = new_event_type()
    calls = []

    def handler(session, event):
        calls.append(event.what)

    assert subscribe(event_type)(handler) is handler
    subscribe(event_type)(handler)
    publish(object(), event_type("once"))
    assert calls == ["once"]
    assert handlers_of(event_type) == [handler]


def test_an_event_without_handlers_is_a_no_op_and_subclasses_do_not_match():
    parent = new_event_type()
    calls = []

    @dataclass(frozen=True)
    class Child(parent):
        pass

    subscribe(parent)(lambda session, event: calls.append(event))
    publish(object(), Child("child"))
    publish(object(), new_event_type()("nobody listens"))
    assert calls == []


def test_a_handler_error_propagates_to_the_publisher_and_stops_later_handlers():
    event_type = new_event_type()
    calls = []

    @subscribe(event_type)
    def failing(session, event):
        calls.append("failing")
        raise ValueError(f"cannot handle {event.what}")

    @subscribe(event_type)
    def later(session, event):
        calls.append("later")

    with pytest.raises(ValueError, match="cannot handle boom"):
        publish(object(), event_type("boom"))
    assert calls == ["failing"]


def test_handlers_run_in_the_publishers_session_and_transaction(session):
    event_type = new_event_type()
    seen = []

    @subscribe(event_type)
    def audit_it(handler_session, event):
        seen.append(handler_session)
        record_event(handler_session, actor="system", action="test.happened", subject_type="test", subject=event.what)

    already = verify_chain(session).events
    savepoint = session.begin_nested()
    record_event(session, actor="system", action="test.before", subject_type="test", subject="before")
    publish(session, event_type("inside"))
    assert seen == [session]
    # The handler's write is part of the publisher's transaction: visible to it, chained after its own event...
    assert verify_chain(session).events == already + 2
    # ...and gone with it when the publisher rolls back.
    savepoint.rollback()
    assert verify_chain(session).events == already
