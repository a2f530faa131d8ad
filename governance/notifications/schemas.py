"""Payloads and views of webhooks and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from governance.kernel.fields import Slug
from governance.notifications.addresses import embedded_ipv4, ip_literal
from governance.notifications.models import Webhook, WebhookDelivery
from governance.notifications.outbox import EVENT_TYPES


def check_webhook_url(url: str) -> str:
    # Credentials in a URL end up in logs and views; the signature is how a receiver authenticates Steward.
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        raise ValueError("must not contain whitespace, control characters or backslashes")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials (user:password@host); receivers verify the signature instead")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise ValueError("has an invalid port") from exc
    literal = ip_literal(parts.hostname)
    if literal is not None and embedded_ipv4(literal):
        # Such a literal reaches the IPv4 address it embeds; naming that address keeps what is reached visible.
        raise ValueError(
            f"names the IPv4 address {embedded_ipv4(literal)[-1]} inside an IPv6 address; write the IPv4 address itself"
        )
    return url


WebhookUrl = Annotated[
    str,
    Field(min_length=8, max_length=2000, description="http(s) URL the events are POSTed to; no user:password@."),
    AfterValidator(check_webhook_url),
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    product: Slug | None = Field(default=None, description="Product slug; omit for a global webhook (admins).")
    events: list[str] = Field(
        default_factory=list, max_length=len(EVENT_TYPES), description="Event types to send; empty sends all."
    )

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event types {unknown}; choose from {', '.join(EVENT_TYPES)}")
        return sorted(set(value))


class WebhookView(BaseModel):
    id: int
    product: str | None = Field(description="Product slug; null for a global webhook.")
    url: str
    events: list[str] = Field(description="Event types sent; empty means all.")
    created_by: str
    created_at: datetime
    disabled_at: datetime | None


class CreatedWebhookView(WebhookView):
    signing_secret: str = Field(description="HMAC key for X-Steward-Signature. Shown once: Steward does not store it.")


class DeliveryView(BaseModel):
    id: int = Field(description="Sent as X-Steward-Delivery; the same on every retry.")
    webhook_id: int
    event: str = Field(description="Event type.")
    event_id: str = Field(description="The payload's id.")
    state: str = Field(description="pending, delivered or failed.")
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next.")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def webhook_view(webhook: Webhook) -> WebhookView:
    return WebhookView(
        id=webhook.id,
        product=webhook.product.slug if webhook.product else None,
        url=webhook.url,
        events=list(webhook.events or []),
        created_by=webhook.created_by,
        created_at=webhook.created_at,
        disabled_at=webhook.disabled_at,
    )


def delivery_view(delivery: WebhookDelivery) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event=delivery.event.type,
        event_id=delivery.event.uid,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.state == "pending" else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )
