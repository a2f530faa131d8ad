"""Tables of notifications: webhooks, the outbox of events, and the delivery log.

The outbox row is written in the same transaction as the state change it announces, so an event is
never sent for a change that rolled back, and never lost for one that committed. Delivery happens
later, outside that transaction, one ``webhook_deliveries`` row per (event, webhook)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from governance.catalog.models import Product
from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


class DeliveryState(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class Webhook(Base):
    """An HTTP endpoint that receives events of one product, or of every product when ``product_id`` is null.

    No secret is stored: the signing secret is derived from the server's secret key and the webhook's id.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Empty means every event type.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product | None] = relationship(lazy="joined")


class OutboxEvent(Base):
    """One notification event, with the exact payload every webhook receives."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public id in the payload: known before the row is flushed, so the payload is written once.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    product_slug: Mapped[str | None] = mapped_column(String(64), index=True)
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set for events that must be announced once however many processes look (revalidation overdue).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(back_populates="event")


class WebhookDelivery(Base):
    """The delivery log: one event to one webhook, with every attempt's outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id", name="uq_webhook_deliveries_event_webhook"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    state: Mapped[DeliveryState] = mapped_column(EnumText(DeliveryState), default=DeliveryState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # While an attempt is in flight this is the end of the sender's lease: a crashed sender's claim expires.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[OutboxEvent] = relationship(back_populates="deliveries", lazy="joined", innerjoin=True)
