"""Helpers for the audit tests: write a chain with the real functions, then tamper with it as an intruder would."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from governance.audit.models import AuditEvent
from governance.audit.trail import record_event


def write_events(session, count: int, *, product: str | None = None, actor: str = "system") -> list[AuditEvent]:
    return [
        record_event(
            session,
            actor=actor,
            action="test.recorded",
            subject_type="test",
            subject=f"subject-{index}",
            product_slug=product,
            before={"n": index - 1} if index else None,
            after={"n": index, "text": "é ✓"},
            reason=f"reason {index}",
        )
        for index in range(count)
    ]


def tamper(session, at: int, /, **values) -> None:
    """Change stored columns of one event behind the trail's back, as a direct UPDATE would."""
    session.execute(update(AuditEvent).where(AuditEvent.seq == at).values(**values))
    session.expire_all()


def remove(session, seq: int) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.seq == seq))
    session.expire_all()


def swap(session, first: int, second: int) -> None:
    """Exchange the positions of two events (seq is unique, hence the detour through a free number)."""
    tamper(session, first, seq=-1)
    tamper(session, second, seq=first)
    tamper(session, -1, seq=second)


@pytest.fixture
def chain(session):
    """Five events on an empty trail: seq 1 to 5."""
    return write_events(session, 5)
