"""In-process domain events: a package announces what happened, and the packages above it react.

Arrows between domain packages point one way (see ``governance/README.md``). Where a lower package must set
off work in a higher one (the catalog has a new head, so releases must be cut), it publishes an event instead
of importing upward. Handlers run synchronously, in the publisher's session and transaction, in the order
they subscribed: a publish and the releases it cuts still commit or roll back together.

Subscribers register when their module is imported; ``governance/__init__.py`` imports every subscribing
module, so importing any part of the domain wires all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

EventT = TypeVar("EventT")
Handler = Callable[[Session, EventT], None]

_handlers: dict[type[Any], list[Handler[Any]]] = {}


def subscribe(event_type: type[EventT]) -> Callable[[Handler[EventT]], Handler[EventT]]:
    """Register the decorated function to run whenever an event of ``event_type`` is published."""

    def register(handler: Handler[EventT]) -> Handler[EventT]:
        handlers = _handlers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)
        return handler

    return register


def publish(session: Session, event: object) -> None:
    """Run every handler of ``event``'s type, in this session; a handler's error propagates to the publisher."""
    for handler in _handlers.get(type(event), ()):
        handler(session, event)


def handlers_of(event_type: type[Any]) -> list[Handler[Any]]:
    """The handlers registered for ``event_type``, in the order they run (for tests and the design docs)."""
    return list(_handlers.get(event_type, ()))
