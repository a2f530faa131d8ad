"""Queries over the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, text
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
    action: str | None = None,
    before: datetime | None = None,
) -> Page[AuditEvent]:
    """Events in chain order after ``after`` (a seq), of one product, by one actor, of one action, or within a
    time range if given."""
    where = EventFilter(product=product, actor=actor, action=action, since=since, before=before)
    query = select(AuditEvent).where(*where.conditions())
    return keyset_page(session, query, AuditEvent.seq, after=after, limit=limit)


@dataclass(frozen=True)
class EventFilter:
    """What the audit log is narrowed to; ``extra_seqs`` are events of another product's kind kept in anyway."""

    product: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    extra_seqs: frozenset[int] = frozenset()

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.product is not None:
            of_product = AuditEvent.product_slug == self.product
            conditions.append(
                or_(of_product, AuditEvent.seq.in_(sorted(self.extra_seqs))) if self.extra_seqs else of_product
            )
        if self.actor is not None:
            conditions.append(AuditEvent.actor == self.actor)
        if self.action is not None:
            conditions.append(AuditEvent.action == self.action)
        if self.since is not None:
            conditions.append(AuditEvent.occurred_at >= self.since)
        if self.before is not None:
            conditions.append(AuditEvent.occurred_at < self.before)
        return conditions


def events_window(
    session: Session, where: EventFilter, *, older_than: int | None, newer_than: int | None, limit: int
) -> list[AuditEvent]:
    """Up to ``limit + 1`` matching events next to a seq, newest first.

    Older than ``older_than`` reads down from it; newer than ``newer_than`` reads up from it (the rows nearest
    that seq, returned newest first too); neither: the newest events.
    """
    query = select(AuditEvent).where(*where.conditions())
    if newer_than is not None:
        query = query.where(AuditEvent.seq > newer_than).order_by(AuditEvent.seq)
        return list(reversed(list(session.scalars(query.limit(limit + 1)))))
    if older_than is not None:
        query = query.where(AuditEvent.seq < older_than)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)))


def any_newer(session: Session, where: EventFilter, seq: int) -> bool:
    query = select(AuditEvent.seq).where(*where.conditions(), AuditEvent.seq > seq).limit(1)
    return session.scalar(query) is not None


def any_older(session: Session, where: EventFilter, seq: int) -> bool:
    query = select(AuditEvent.seq).where(*where.conditions(), AuditEvent.seq < seq).limit(1)
    return session.scalar(query) is not None


def distinct_actors(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor)))


def distinct_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def distinct_products(session: Session) -> list[str]:
    query = select(AuditEvent.product_slug).where(AuditEvent.product_slug.is_not(None)).distinct()
    return [slug for slug in session.scalars(query.order_by(AuditEvent.product_slug)) if slug is not None]


def publish_events(session: Session, actions: set[str], subjects: set[str]) -> list[tuple[int, str, str, Any]]:
    """(seq, action, subject, after) of the publish events of these subjects: the candidates of release causes."""
    if not actions or not subjects:
        return []
    query = select(AuditEvent.seq, AuditEvent.action, AuditEvent.subject, AuditEvent.after).where(
        AuditEvent.action.in_(sorted(actions)), AuditEvent.subject.in_(sorted(subjects))
    )
    return [(seq, action, subject, after) for seq, action, subject, after in session.execute(query)]


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
