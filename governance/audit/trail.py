"""The audit trail: one append-only, hash-chained event per change or decision, in the same transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from governance.audit import repository as audit_repo
from governance.audit.events import Actor, AuditRecorded, actor_name
from governance.audit.models import AuditEvent
from governance.audit.sealing import ChainKey, require_chain_key
from governance.kernel.canonical import canonical_json
from governance.kernel.db import utcnow
from governance.kernel.events import publish
from governance.kernel.repository import allocate_ids
from governance.kernel.unit_of_work import AuditBatch, UnitOfWork, unit_of

GENESIS_HASH = "0" * 64


# Ids taken per round trip inside a batch; unused ones are left as gaps, which nothing reads (``seq`` orders).
_ID_BLOCK = 500


def sealed_fields(event: AuditEvent) -> dict[str, Any]:
    """Everything an event says, plus the hash of the event before it: what its own hash seals.

    A keyed event seals its key id too; an unkeyed (older) one has none, so its hash reads as it was written.
    """
    fields: dict[str, Any] = {
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
    if event.key_id is not None:
        fields["key_id"] = event.key_id
    return fields


def event_hash(event: AuditEvent, key: ChainKey | None = None) -> str:
    """The hash that seals an event: HMAC-SHA256 under ``key`` for a keyed event, plain SHA-256 for an unkeyed one.

    Raises:
        ValueError: a keyed event and no key, or a key other than the one that sealed it.
    """
    message = canonical_json(sealed_fields(event)).encode("utf-8")
    if event.key_id is None:
        return hashlib.sha256(message).hexdigest()
    if key is None or key.key_id != event.key_id:
        raise ValueError(f"event {event.seq} is sealed with key {event.key_id}; its seal needs that key")
    return key.seal(message)


def begin_write(session: Session) -> None:
    """Take the audit chain's lock before any row lock: every writer takes it first, so writers never deadlock.

    Every change writes an audit event, so writers queue on the chain anyway; taking its lock before the row locks
    (a release, a product, a component) gives all of them one lock order.
    """
    audit_repo.lock_chain(session)


def _next_id(session: Session, batch: AuditBatch) -> int | None:
    if not batch.ids:
        batch.ids = allocate_ids(session, AuditEvent.__tablename__, _ID_BLOCK) or []
        batch.ids.reverse()
    return batch.ids.pop() if batch.ids else None


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
    work = unit_of(session)
    if work.audit_batch is not None:
        yield
        return
    begin_write(session)
    work.audit_batch = AuditBatch()
    try:
        yield
        session.flush()
    finally:
        work.audit_batch = None


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, previous_transaction: SessionTransaction) -> None:
    # Any rollback (a savepoint's too) may have removed events this block appended: the database decides again.
    batch = session.audit_batch if isinstance(session, UnitOfWork) else None
    if batch is not None:
        batch.head = None


def _chain_head(session: Session, batch: AuditBatch | None) -> tuple[int, str]:
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
    actor: Actor,
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
    key = require_chain_key()
    batch = unit_of(session).audit_batch
    previous_seq, previous_hash = _chain_head(session, batch)
    event = AuditEvent(
        seq=previous_seq + 1,
        # Microsecond precision survives both databases, so the sealed timestamp reads back identically.
        occurred_at=utcnow(),
        actor=actor_name(actor),
        action=action,
        subject_type=subject_type,
        subject=subject,
        product_slug=product_slug,
        before=before,
        after=after,
        reason=reason,
        prev_hash=previous_hash,
        key_id=key.key_id,
    )
    event.hash = event_hash(event, key)
    if batch is not None and (event_id := _next_id(session, batch)) is not None:
        event.id = event_id
    session.add(event)
    if batch is None:
        session.flush()
    else:
        batch.head = (event.seq, event.hash)
    publish(session, AuditRecorded(event))
    return event
