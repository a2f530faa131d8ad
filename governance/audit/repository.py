"""Queries over the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from governance.audit.models import AuditEvent
from governance.kernel.pagination import Page
from governance.kernel.repository import keyset_page

# Any constant works: it names the one lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x5757A0D1


def lock_chain(session: Session) -> None:
    """Serialise appends so two transactions never chain onto the same previous event.

    SQLite already serialises writers (Steward opens its transactions with BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock, released on commit or rollback.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def chain_head(session: Session) -> tuple[int, str] | None:
    """The newest event's (seq, hash): all an append needs, without loading the whole row as an object."""
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def hash_at(session: Session, seq: int) -> str | None:
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def count_up_to(session: Session, seq: int) -> int:
    """How many events have a seq from 1 to ``seq``: all of them, unless some were deleted."""
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.between(1, seq))) or 0


def events_page(
    session: Session,
    *,
    after: int,
    limit: int,
    product: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
) -> Page[AuditEvent]:
    """Events in chain order after ``after`` (a seq), of one product, by one actor or since a time if given."""
    query = select(AuditEvent)
    if product is not None:
        query = query.where(AuditEvent.product_slug == product)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    return keyset_page(session, query, AuditEvent.seq, after=after, limit=limit)


def release_cut_details(session: Session, product: str) -> list[dict[str, Any] | None]:
    """The ``after`` of every ``release.cut`` event of a product: each names the change that caused the cut."""
    query = select(AuditEvent.after).where(AuditEvent.product_slug == product, AuditEvent.action == "release.cut")
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def iterate_all(session: Session, *, batch: int = 1000) -> Iterator[AuditEvent]:
    """Every event in chain order, read in batches so verifying a long trail stays in bounded memory."""
    after = 0
    while True:
        rows = list(
            session.scalars(select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch))
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
