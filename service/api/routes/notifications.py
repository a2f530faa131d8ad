"""Outbound webhooks: register, list, disable, test, and read the delivery log."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, status

from governance.kernel.pagination import PageView
from governance.notifications import webhooks as notifications
from governance.notifications.schemas import (
    CreatedWebhookView,
    DeliveryView,
    WebhookCreate,
    WebhookView,
    delivery_view,
    webhook_view,
)
from service.api.deps import CurrentUser, DbSession, Paging
from service.secret_key import server_secret_key

router = APIRouter(tags=["notifications"])


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook (global: admins; a product's: its owner or an admin); shows its secret once.",
)
def create_webhook(body: WebhookCreate, request: Request, session: DbSession, actor: CurrentUser) -> CreatedWebhookView:
    """Register a webhook (global: admins; a product's: its owner or an admin); shows its secret once."""
    key = server_secret_key(request.app.state.settings)
    webhook, secret = notifications.create_webhook(session, actor, body, server_key=key)
    return CreatedWebhookView(**webhook_view(webhook).model_dump(), signing_secret=secret)


@router.get(
    "/webhooks",
    summary="The webhooks the caller manages, optionally of one product.",
    responses={404: {"description": "No product has that slug."}},
)
def list_webhooks(
    session: DbSession,
    actor: CurrentUser,
    page: Paging,
    product: str | None = Query(None, description="Only this product's webhooks."),
) -> PageView[WebhookView]:
    """The webhooks the caller manages, optionally of one product."""
    result = notifications.list_webhooks(session, actor, product=product, after=page.after, limit=page.limit)
    return PageView(items=[webhook_view(w) for w in result.items], next=result.next)


@router.delete("/webhooks/{webhook_id}", summary="Disable a webhook; its pending deliveries are marked failed.")
def disable_webhook(webhook_id: int, session: DbSession, actor: CurrentUser) -> WebhookView:
    """Disable a webhook; its pending deliveries are marked failed."""
    return webhook_view(notifications.disable_webhook(session, actor, webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", summary="A webhook's delivery log, newest first.")
def list_deliveries(webhook_id: int, session: DbSession, actor: CurrentUser, page: Paging) -> PageView[DeliveryView]:
    """A webhook's delivery log, newest first."""
    result = notifications.list_deliveries(session, actor, webhook_id, before=page.after, limit=page.limit)
    return PageView(items=[delivery_view(d) for d in result.items], next=result.next)


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a ping event to this webhook; the worker sends it.",
)
def test_webhook(webhook_id: int, session: DbSession, actor: CurrentUser) -> DeliveryView:
    """Queue a ping event to this webhook; the worker sends it."""
    return delivery_view(notifications.enqueue_ping(session, actor, webhook_id))
