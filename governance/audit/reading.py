"""Reading the audit trail: verifying the chain, listing and exporting events."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from governance.audit import repository as audit_repo
from governance.audit.events import Named
from governance.audit.models import AuditEvent
from governance.audit.sealing import ChainKey, installed_chain_key
from governance.audit.trail import GENESIS_HASH, event_hash, sealed_fields
from governance.kernel.db import utcnow
from governance.kernel.pagination import Page


def head_seq(session: Session) -> int:
    """The sequence number of the newest audit event (0 before the first).

    Every change to what Steward governs (a publish, a decision, a state change, a finished run, a policy, an
    owner, evidence) appends an event in the change's own transaction, so the head moves whenever any of them
    commits: a view read together with the head is current for exactly as long as the head stays where it was.
    """
    head = audit_repo.chain_head(session)
    return head[0] if head is not None else 0


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of a walk over the chain, and how much it could check.

    ``key_id`` is the chain key the seals were checked with. ``None`` means the walk had no key and checked the
    links only (every seq present, every event naming its predecessor's hash, unkeyed events' SHA-256): an
    intruder who edits an event and recomputes every later hash passes that walk, but not one with the key.
    """

    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str | None = None
    checked_at: datetime | None = None
    key_id: str | None = None
    unkeyed: int = 0

    @property
    def checked(self) -> str:
        """What the walk checked, in words for the CLI and the web page."""
        if self.key_id is None:
            return "links only (without the chain key the seals cannot be checked)"
        return f"seals checked with chain key {self.key_id}"


UNKEYED_PROBLEM = (
    "event {seq} is not sealed with the chain key: it was written without the key, or before events were "
    "keyed (an admin reseals those once: `steward audit reseal`)"
)


def _problem(event: AuditEvent, *, seq: int, prev_hash: str, key: ChainKey | None, unkeyed_allowed: bool) -> str | None:
    if event.seq != seq:
        return f"event {seq} is missing: the chain jumps to {event.seq}"
    if event.prev_hash != prev_hash:
        return f"event {event.seq} does not follow event {event.seq - 1}: its previous hash differs"
    if event.key_id is None:
        # Anyone can compute a plain SHA-256: with the key at hand, only keyed seals count.
        if not unkeyed_allowed:
            return UNKEYED_PROBLEM.format(seq=event.seq)
        if event_hash(event) != event.hash:
            return f"event {event.seq} was altered after it was written: its hash does not match"
        return None
    if key is None:
        return None
    if event.key_id != key.key_id:
        return f"event {event.seq} is sealed with key {event.key_id}, not with this server's chain key {key.key_id}"
    if not hmac.compare_digest(event_hash(event, key), event.hash):
        return f"event {event.seq} was altered after it was written: its seal does not match"
    return None


def walk_chain(session: Session, key: ChainKey | None, *, unkeyed_allowed: bool) -> ChainVerification:
    """Walk the chain from the first event; stop at the first event that was edited, removed or moved."""
    key_id = key.key_id if key is not None else None
    expected_seq, prev_hash, count, unkeyed = 1, GENESIS_HASH, 0, 0
    for event in audit_repo.iterate_all(session):
        problem = _problem(event, seq=expected_seq, prev_hash=prev_hash, key=key, unkeyed_allowed=unkeyed_allowed)
        if problem is not None:
            return ChainVerification(
                ok=False,
                events=count,
                first_bad_seq=event.seq,
                problem=problem,
                checked_at=utcnow(),
                key_id=key_id,
                unkeyed=unkeyed,
            )
        unkeyed += event.key_id is None
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    return ChainVerification(
        ok=True,
        events=count,
        head_hash=prev_hash if count else None,
        checked_at=utcnow(),
        key_id=key_id,
        unkeyed=unkeyed,
    )


def verify_chain(session: Session, key: ChainKey | None = None, *, links_only: bool = False) -> ChainVerification:
    """Name the first event that was edited, removed or moved.

    With a key (``key``, else the process's installed one) every event must carry a seal under it; with none,
    or ``links_only``, the links are checked.
    """
    key = None if links_only else key or installed_chain_key()
    return walk_chain(session, key, unkeyed_allowed=key is None)


def list_events(
    session: Session,
    actor: Named,
    *,
    after: int,
    limit: int,
    product: str | None = None,
    by: str | None = None,
    since: datetime | None = None,
    action: str | None = None,
    until: datetime | None = None,
) -> Page[AuditEvent]:
    """Events in chain order. Every signed-in role may read the trail: auditability is the point.

    ``until`` is exclusive: events before it.
    """
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return audit_repo.events_page(
        session, after=after, limit=limit, product=product, actor=by, since=since, action=action, before=until
    )


@dataclass(frozen=True)
class EventWindow:
    """One page of the audit log, newest first, with the seqs to page on from in each direction."""

    items: list[AuditEvent]
    newer_than: int | None
    """Pass as ``newer_than`` for the page of newer events; None when this page holds the newest."""
    older_than: int | None
    """Pass as ``older_than`` for the page of older events; None when this page holds the oldest."""


def product_filter_extras(session: Session, product: str) -> frozenset[int]:
    """The seqs of the publish events that caused one of the product's releases.

    The publish of a shared document or process carries no product, yet it is why the product's release was
    cut: filtering the log by the product keeps it in, as the export does.
    """
    causes = _release_causes(session, product)
    actions = {action for action, _subject, _version in causes}
    subjects = {subject for _action, subject, _version in causes}
    return frozenset(
        seq
        for seq, action, subject, after in audit_repo.publish_events(session, actions, subjects)
        if (action, subject, (after or {}).get("version")) in causes
    )


def browse_events(
    session: Session,
    actor: Named,
    where: audit_repo.EventFilter,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    limit: int,
) -> EventWindow:
    """A page of the log newest first, read from either side of a seq (every signed-in role may read it).

    A product filter also keeps the publish events that caused the product's releases.
    """
    if where.product is not None and not where.extra_seqs:
        where = replace(where, extra_seqs=product_filter_extras(session, where.product))
    rows = audit_repo.events_window(session, where, older_than=older_than, newer_than=newer_than, limit=limit)
    more = len(rows) > limit
    if newer_than is not None:
        items = rows[-limit:] if more else rows
        has_newer, has_older = more, bool(items) and audit_repo.any_older(session, where, items[-1].seq)
    else:
        items = rows[:limit]
        has_older = more
        has_newer = older_than is not None and bool(items) and audit_repo.any_newer(session, where, items[0].seq)
    return EventWindow(
        items=items,
        newer_than=items[0].seq if items and has_newer else None,
        older_than=items[-1].seq if items and has_older else None,
    )


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event as an auditor receives it: everything sealed plus its own hash, to recompute and compare."""
    return {**sealed_fields(event), "hash": event.hash}


def export_events(session: Session, *, product: str | None = None) -> Iterator[dict[str, Any]]:
    """Every event (of one product, if given) in chain order, as plain dicts, streamed in batches.

    A product's export also holds the events that caused its releases: the publish of a shared document or
    process that cut a release of the product is tagged with no product, yet it is why the release exists.
    """
    causes = _release_causes(session, product) if product is not None else set()
    for event in audit_repo.iterate_all(session):
        if product is None or event.product_slug == product or _publish_key(event) in causes:
            yield event_record(event)


def _release_causes(session: Session, product: str) -> set[tuple[str, str, int]]:
    """(publish action, subject, version) of every publish named as the cause of one of the product's releases."""
    causes = set()
    for after in audit_repo.release_cut_details(session, product):
        cause = (after or {}).get("cause") or {}
        if {"kind", "name", "version"} <= cause.keys():
            causes.add((f"{cause['kind']}.published", str(cause["name"]), cause["version"]))
    return causes


def _publish_key(event: AuditEvent) -> tuple[str, str, int] | None:
    version = (event.after or {}).get("version")
    if not event.action.endswith(".published") or not isinstance(version, int):
        return None
    return (event.action, event.subject, version)
