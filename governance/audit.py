"""The audit trail: one append-only, hash-chained event per change or decision, in the same transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from governance import notifications
from governance.content import canonical_json
from governance.database import utcnow
from governance.models import AuditEvent, User
from governance.pagination import Page, page_of
from governance.repositories import audit as audit_repo

GENESIS_HASH = "0" * 64
_BATCH_KEY = "steward.audit.batch"
# Ids taken per round trip inside a batch; unused ones are left as gaps, which nothing reads (``seq`` orders).
_ID_BLOCK = 500


def sealed_fields(event: AuditEvent) -> dict[str, Any]:
    """Everything an event says, plus the hash of the event before it: what its own hash seals."""
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject": event.subject,
        "product": event.product_slug,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    """The hash that seals an event."""
    return hashlib.sha256(canonical_json(sealed_fields(event)).encode("utf-8")).hexdigest()


def begin_write(session: Session) -> None:
    """Take the audit chain's lock before any row lock: every writer takes it first, so writers never deadlock.

    Every change writes an audit event, so writers queue on the chain anyway; taking its lock before the row locks
    (a release, a product, a component) gives all of them one lock order.
    """
    audit_repo.lock_chain(session)


@dataclass
class _Batch:
    # (seq, hash) of the newest event appended so far; None until read, and again after a savepoint rollback.
    head: tuple[int, str] | None = None
    # Primary keys taken ahead from PostgreSQL's sequence, so the batch inserts without RETURNING.
    ids: list[int] = field(default_factory=list)

    def next_id(self, session: Session) -> int | None:
        if not self.ids:
            self.ids = audit_repo.allocate_ids(session, AuditEvent.__tablename__, _ID_BLOCK) or []
            self.ids.reverse()
        return self.ids.pop() if self.ids else None


@contextmanager
def appending(session: Session) -> Iterator[None]:
    """Append many events in one go: one publish that cuts 1,000 releases writes thousands of them.

    Inside the block the chain's head is read once and then kept in memory, and the events are flushed
    together when the block ends instead of one flush each. Keeping the head is safe: the block takes the
    chain lock, which is held until the transaction ends (PostgreSQL advisory lock; SQLite's write lock),
    and the block runs synchronously in this one session, so nothing else appends meanwhile. A savepoint
    rolled back inside the block forgets the head (see ``_forget_head``) and the next append reads it again.
    Blocks nest; the outermost one flushes.
    """
    if _BATCH_KEY in session.info:
        yield
        return
    begin_write(session)
    session.info[_BATCH_KEY] = _Batch()
    try:
        yield
        session.flush()
    finally:
        session.info.pop(_BATCH_KEY, None)


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, previous_transaction) -> None:
    # Any rollback (a savepoint's too) may have removed events this block appended: the database decides again.
    batch = session.info.get(_BATCH_KEY)
    if batch is not None:
        batch.head = None


def _chain_head(session: Session, batch: _Batch | None) -> tuple[int, str]:
    if batch is not None and batch.head is not None:
        return batch.head
    audit_repo.lock_chain(session)
    if batch is not None:
        session.flush()  # events still pending in this session follow the head in the database
    head = audit_repo.chain_head(session) or (0, GENESIS_HASH)
    if batch is not None:
        batch.head = head
    return head


def record_event(
    session: Session,
    *,
    actor: User | str,
    action: str,
    subject_type: str,
    subject: str,
    product_slug: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to the chain. The caller's transaction commits it together with the change it records.

    Outside an ``appending`` block the event is flushed at once; inside one, when the block ends.
    """
    batch: _Batch | None = session.info.get(_BATCH_KEY)
    previous_seq, previous_hash = _chain_head(session, batch)
    event = AuditEvent(
        seq=previous_seq + 1,
        # Microsecond precision survives both databases, so the sealed timestamp reads back identically.
        occurred_at=utcnow(),
        actor=actor.name if isinstance(actor, User) else actor,
        action=action,
        subject_type=subject_type,
        subject=subject,
        product_slug=product_slug,
        before=before,
        after=after,
        reason=reason,
        prev_hash=previous_hash,
    )
    event.hash = event_hash(event)
    if batch is not None:
        event.id = batch.next_id(session)
    session.add(event)
    if batch is None:
        session.flush()
    else:
        batch.head = (event.seq, event.hash)
    notifications.enqueue_for_audit_event(session, event)
    return event


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str | None = None
    checked_at: datetime | None = None


def verify_chain(session: Session) -> ChainVerification:
    """Walk the chain from the first event and name the first event that was edited, removed or moved."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for event in audit_repo.iterate_all(session):
        if event.seq != expected_seq:
            problem = f"event {expected_seq} is missing: the chain jumps to {event.seq}"
        elif event.prev_hash != prev_hash:
            problem = f"event {event.seq} does not follow event {event.seq - 1}: its previous hash differs"
        elif event_hash(event) != event.hash:
            problem = f"event {event.seq} was altered after it was written: its hash does not match"
        else:
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
            continue
        return ChainVerification(ok=False, events=count, first_bad_seq=event.seq, problem=problem, checked_at=utcnow())
    return ChainVerification(ok=True, events=count, head_hash=prev_hash if count else None, checked_at=utcnow())


def list_events(
    session: Session,
    actor: User,
    *,
    after: int,
    limit: int,
    product: str | None = None,
    by: str | None = None,
    since: datetime | None = None,
) -> Page[AuditEvent]:
    """Events in chain order. Every signed-in role may read the trail: auditability is the point."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    rows = audit_repo.list_page(session, after_seq=after, limit=limit + 1, product=product, actor=by, since=since)
    return page_of(rows, limit, key=lambda event: event.seq)


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event as an auditor receives it: everything sealed plus its own hash, to recompute and compare."""
    return {**sealed_fields(event), "hash": event.hash}


def export_events(session: Session, *, product: str | None = None):
    """Every event (of one product, if given) in chain order, as plain dicts, streamed in batches."""
    for event in audit_repo.iterate_all(session):
        if product is None or event.product_slug == product:
            yield event_record(event)
