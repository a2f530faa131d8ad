"""Notifications: release events become outbox rows and pending webhook deliveries, in the change's transaction.

``record_event`` calls ``enqueue_for_audit_event`` for every audit event it appends, so each announced
state change and its notification commit or roll back together. ``enqueue_overdue`` announces missed
revalidation deadlines; any process may call it at any time. Sending happens elsewhere
(``service.workers.webhook_delivery``), outside the transaction, from the rows written here.

Outbox rows are written only for events at least one enabled webhook wants: with no subscribers a
1,000-product publish pays one small query per transaction, nothing per product."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.audit.events import AuditRecorded
from governance.audit.models import AuditEvent
from governance.catalog import repository as products_repo
from governance.kernel.db import utcnow
from governance.kernel.events import subscribe
from governance.kernel.unit_of_work import WebhookRoute, unit_of
from governance.notifications import repository as repo
from governance.notifications.models import OutboxEvent, WebhookDelivery
from governance.releases import repository as releases_repo
from governance.releases.models import Release
from governance.releases.reading import release_href

RELEASE_CUT = "release.cut"


RUNS_FINISHED = "runs.finished"


SIGNOFF_REQUESTED = "signoff.requested"


APPROVAL_REQUESTED = "approval.requested"


RELEASE_APPROVED = "release.approved"


RELEASE_REJECTED = "release.rejected"


RELEASE_LIVE = "release.live"


REVALIDATION_OVERDUE = repo.OVERDUE


PRODUCT_SUSPENDED = "product.suspended"


PRODUCT_RESUMED = "product.resumed"


KPI_THRESHOLD_CROSSED = "kpi.threshold_crossed"


INCIDENT_RECORDED = "incident.recorded"


RECERTIFICATION_REGRESSED = "recertification.regressed"


PING = "ping"


# The events a webhook may subscribe to. ``ping`` is sent only on request, to the one webhook tested.
EVENT_TYPES = (
    RELEASE_CUT,
    RUNS_FINISHED,
    SIGNOFF_REQUESTED,
    APPROVAL_REQUESTED,
    RELEASE_APPROVED,
    RELEASE_REJECTED,
    RELEASE_LIVE,
    REVALIDATION_OVERDUE,
    PRODUCT_SUSPENDED,
    PRODUCT_RESUMED,
    KPI_THRESHOLD_CROSSED,
    INCIDENT_RECORDED,
    RECERTIFICATION_REGRESSED,
)


# Audit actions that announce something, and what they announce.
EVENTS_OF_ACTION: dict[str, tuple[str, ...]] = {
    "release.cut": (RELEASE_CUT,),
    "release.passed": (RUNS_FINISHED, SIGNOFF_REQUESTED),
    "release.failed": (RUNS_FINISHED, SIGNOFF_REQUESTED),
    "release.signed_off": (APPROVAL_REQUESTED,),
    "release.approved": (RELEASE_APPROVED,),
    "release.rejected": (RELEASE_REJECTED,),
    "release.live": (RELEASE_LIVE,),
    "product.suspended": (PRODUCT_SUSPENDED,),
    "product.resumed": (PRODUCT_RESUMED,),
    "kpi.threshold_crossed": (KPI_THRESHOLD_CROSSED,),
    "incident.recorded": (INCIDENT_RECORDED,),
    "recertification.regressed": (RECERTIFICATION_REGRESSED,),
}


def _payload(
    event_type: str,
    uid: str,
    occurred_at: datetime,
    product_slug: str | None,
    release: Release | None,
    actor: str,
    reason: str,
) -> dict[str, Any]:
    release_part = None
    links: dict[str, str] = {}
    if release is not None:
        release_part = {
            "id": release.id,
            "number": release.number,
            "state": release.state,
            "manifest_hash": release.manifest_hash,
            "revalidation_due_at": release.revalidation_due_at.isoformat() if release.revalidation_due_at else None,
        }
        if product_slug is not None:
            # The identifier people quote: the product and the release's number (the id stays in the payload).
            links["release"] = release_href(product_slug, release.number)
            links["release_page"] = f"/products/{product_slug}/releases/{release.number}"
    return {
        "event": event_type,
        "id": uid,
        "occurred_at": occurred_at.isoformat(),
        "product": product_slug,
        "release": release_part,
        "actor": actor,
        "reason": reason,
        "links": links,
    }


def _active_webhooks(session: Session) -> list[WebhookRoute]:
    # Read once per transaction: a publish touching 1,000 products must not ask 1,000 times. Webhook
    # changes in this session drop the cache; changes committed elsewhere meanwhile may race either way.
    work, transaction = unit_of(session), session.get_transaction()
    cached = work.active_webhooks
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    hooks = [(row.id, row.product_id, frozenset(row.events or ())) for row in repo.active_webhooks(session)]
    if transaction is not None:
        work.active_webhooks = (transaction, hooks)
    return hooks


def _forget_webhooks(session: Session) -> None:
    unit_of(session).active_webhooks = None


def _subscribers(session: Session, product_id: int | None, event_type: str) -> list[int]:
    return [
        hook_id
        for hook_id, hook_product, events in _active_webhooks(session)
        if (hook_product is None or hook_product == product_id) and (not events or event_type in events)
    ]


def _outbox_event(
    event_type: str,
    *,
    webhook_ids: list[int],
    occurred_at: datetime,
    product_slug: str | None,
    release: Release | None,
    actor: str,
    reason: str,
    dedupe_key: str | None = None,
) -> OutboxEvent:
    uid = str(uuid.uuid4())
    event = OutboxEvent(
        uid=uid,
        type=event_type,
        product_slug=product_slug,
        release_id=release.id if release is not None else None,
        payload=_payload(event_type, uid, occurred_at, product_slug, release, actor, reason),
        dedupe_key=dedupe_key,
    )
    # Through the relationship, so the rows are inserted with the caller's next flush, in one batch.
    event.deliveries = [WebhookDelivery(webhook_id=hook_id, next_attempt_at=utcnow()) for hook_id in webhook_ids]
    return event


@subscribe(AuditRecorded)
def on_audit_recorded(session: Session, recorded: AuditRecorded) -> None:
    enqueue_for_audit_event(session, recorded.event)


def enqueue_for_audit_event(session: Session, event: AuditEvent) -> list[OutboxEvent]:
    """Turn an audit event into the notification events it announces, one pending delivery per subscriber.

    Args:
        session: The caller's session; rows are added, not flushed, and commit with the audited change.
        event: The audit event just appended.

    Returns:
        The outbox events written (none when the action announces nothing or nobody subscribed).
    """
    types = EVENTS_OF_ACTION.get(event.action)
    if not types:
        return []
    release_id = (event.after or {}).get("release_id")
    release = releases_repo.release_by_id(session, release_id) if release_id is not None else None
    if release is not None:
        product_id: int | None = release.product_id
    else:
        # Events about a product itself (suspended, resumed) carry no release.
        product = products_repo.get_by_slug(session, event.product_slug) if event.product_slug else None
        if product is None or release_id is not None:
            return []
        product_id = product.id
    written = []
    for event_type in types:
        hooks = _subscribers(session, product_id, event_type)
        if not hooks:
            continue
        outbox = _outbox_event(
            event_type,
            webhook_ids=hooks,
            occurred_at=event.occurred_at,
            product_slug=event.product_slug,
            release=release,
            actor=event.actor,
            reason=event.reason,
        )
        session.add(outbox)
        written.append(outbox)
    return written


def enqueue_overdue(session: Session, now: datetime | None = None) -> int:
    """Announce, once per release, each product whose pending release's revalidation is past due.

    Safe to call from any number of processes: the outbox's unique key per release lets one of two
    concurrent callers win, and the other skips that release.

    Returns:
        How many overdue events were written.
    """
    now = now or utcnow()
    if not _active_webhooks(session):
        return 0
    written = 0
    for release in repo.overdue_releases(session, now):
        hooks = _subscribers(session, release.product_id, REVALIDATION_OVERDUE)
        due = release.revalidation_due_at
        if not hooks or due is None:  # overdue_releases reads only releases with a due date
            continue
        product = products_repo.product_by_id(session, release.product_id)
        outbox = _outbox_event(
            REVALIDATION_OVERDUE,
            webhook_ids=hooks,
            occurred_at=now,
            product_slug=product.slug if product else None,
            release=release,
            actor="system",
            reason=f"revalidation was due at {due.isoformat()}",
            dedupe_key=f"{REVALIDATION_OVERDUE}:{release.id}",
        )
        try:
            with session.begin_nested():
                session.add(outbox)
        except IntegrityError:
            continue  # another process announced this release first
        written += 1
    return written
