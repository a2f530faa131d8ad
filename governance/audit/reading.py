"""Reading the audit trail: verifying the chain, listing and exporting events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from governance.audit import repository as audit_repo
from governance.audit.events import Named
from governance.audit.models import AuditEvent
from governance.audit.trail import GENESIS_HASH, event_hash, sealed_fields
from governance.kernel.db import utcnow
from governance.kernel.pagination import Page


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
    actor: Named,
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
    return audit_repo.events_page(session, after=after, limit=limit, product=product, actor=by, since=since)


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event as an auditor receives it: everything sealed plus its own hash, to recompute and compare."""
    return {**sealed_fields(event), "hash": event.hash}


def export_events(session: Session, *, product: str | None = None) -> Iterator[dict[str, Any]]:
    """Every event (of one product, if given) in chain order, as plain dicts, streamed in batches."""
    for event in audit_repo.iterate_all(session):
        if product is None or event.product_slug == product:
            yield event_record(event)
