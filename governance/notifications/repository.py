"""Queries over webhooks, the outbox and the delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.orm import Session, aliased

from governance.catalog.models import Product
from governance.kernel.pagination import Page
from governance.kernel.repository import keyset_page
from governance.notifications.models import DeliveryState, OutboxEvent, Webhook, WebhookDelivery
from governance.releases.models import OPEN_STATES, Release, ReleaseState

# A product still owes a revalidation while its newest release is on its way, or was rejected.
_PENDING_STATES = [state.value for state in OPEN_STATES] + [ReleaseState.rejected.value]


OVERDUE = "revalidation.overdue"


def active_webhooks(session: Session) -> list[Row[int, int | None, list[str]]]:
    """(id, product_id, events) of every enabled webhook: few rows, read once per transaction by the caller."""
    query = select(Webhook.id, Webhook.product_id, Webhook.events).where(Webhook.disabled_at.is_(None))
    return list(session.execute(query.order_by(Webhook.id)).all())


def owned_product_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(Product.id).where(Product.owner_id == user_id)))


def get_webhook(session: Session, webhook_id: int) -> Webhook | None:
    return session.get(Webhook, webhook_id)


def active_duplicate(session: Session, url: str, product_id: int | None) -> Webhook | None:
    query = select(Webhook).where(Webhook.url == url, Webhook.disabled_at.is_(None))
    query = query.where(Webhook.product_id.is_(None) if product_id is None else Webhook.product_id == product_id)
    return session.scalar(query.limit(1))


def webhooks_page(
    session: Session, *, product_ids: list[int] | None, include_global: bool, after: int, limit: int
) -> Page[Webhook]:
    """Webhooks in id order. ``product_ids`` None means every product's."""
    query = select(Webhook)
    if product_ids is not None:
        scope: ColumnElement[bool] | None = Webhook.product_id.in_(product_ids) if product_ids else None
        if include_global:
            scope = Webhook.product_id.is_(None) if scope is None else scope | Webhook.product_id.is_(None)
        if scope is None:
            return Page(items=[], next=None)
        query = query.where(scope)
    elif not include_global:
        query = query.where(Webhook.product_id.is_not(None))
    return keyset_page(session, query, Webhook.id, after=after, limit=limit)


def deliveries_page(session: Session, webhook_id: int, *, before: int, limit: int) -> Page[WebhookDelivery]:
    """A webhook's delivery log, newest first, below the delivery id ``before`` (0: from the newest)."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    return keyset_page(session, query, WebhookDelivery.id, after=before, limit=limit, newest_first=True)


def fail_pending(session: Session, webhook_id: int, *, reason: str) -> None:
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state == DeliveryState.pending.value)
        .values(state=DeliveryState.failed.value, last_error=reason)
        .execution_options(synchronize_session=False)
    )


def overdue_releases(session: Session, now: datetime) -> list[Release]:
    """Each product's newest pending release whose revalidation was due before ``now`` and was not announced."""
    newer = aliased(Release)
    superseded_by_newer = (
        select(newer.id)
        .where(
            newer.product_id == Release.product_id,
            newer.number > Release.number,
            newer.state != ReleaseState.superseded.value,
        )
        .exists()
    )
    already_announced = (
        select(OutboxEvent.id).where(OutboxEvent.release_id == Release.id, OutboxEvent.type == OVERDUE).exists()
    )
    query = select(Release).where(
        Release.state.in_(_PENDING_STATES),
        Release.revalidation_due_at.is_not(None),
        Release.revalidation_due_at < now,
        ~superseded_by_newer,
        ~already_announced,
    )
    return list(session.scalars(query.order_by(Release.id)))


def claim_next_due(session: Session, now: datetime) -> WebhookDelivery | None:
    """The next pending delivery that is due, row-locked; on PostgreSQL rows other senders hold are skipped.

    SQLite needs no row lock: Steward's transactions there start with BEGIN IMMEDIATE, one writer at a time.
    """
    query = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.state == DeliveryState.pending.value, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    delivery_id = session.scalar(query)
    if delivery_id is None:
        return None
    return session.get(WebhookDelivery, delivery_id, populate_existing=True)


def locked_attempt(session: Session, delivery_id: int, attempt: int) -> WebhookDelivery | None:
    """The delivery if still pending on ``attempt``: a sender whose lease lapsed must not overwrite a newer one."""
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == attempt,
            WebhookDelivery.state == DeliveryState.pending.value,
        )
        .with_for_update(of=WebhookDelivery)
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)
