"""Webhook delivery bookkeeping, the domain side: claim a due delivery, record how its attempt went.

Senders (``service.workers.webhook_delivery``) call these in short transactions of their own and make the HTTP request
between them, outside any transaction. A claim counts the attempt and pushes ``next_attempt_at`` out by
a lease, so a sender that dies mid-request leaves a delivery that becomes due again when the lease ends.
Delivery is therefore at least once; receivers deduplicate on ``X-Steward-Delivery``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from governance.kernel.canonical import canonical_json
from governance.notifications import repository as repo
from governance.notifications.models import DeliveryState

MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing receiver is retried."""

    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)

    def delay_after(self, attempts: int, *, rng: random.Random | None = None) -> timedelta:
        """Exponential backoff with jitter: half the doubled delay fixed, half random, so retries spread out."""
        doubling: int = 2 ** max(attempts - 1, 0)
        full = min(self.base_delay * doubling, self.max_delay)
        half = full / 2
        fraction: float = (rng or random).random()
        return half + half * fraction


@dataclass(frozen=True)
class DeliveryWork:
    """Everything a sender needs for one attempt, read in the claiming transaction."""

    delivery_id: int
    attempt: int
    webhook_id: int
    url: str
    event_type: str
    body: bytes


def claim_due(session: Session, now: datetime, policy: RetryPolicy) -> DeliveryWork | None:
    """Claim the next due delivery for one attempt, or None when nothing is due.

    Deliveries whose webhook was disabled meanwhile are failed on the way, not sent.
    """
    while True:
        delivery = repo.claim_next_due(session, now)
        if delivery is None:
            return None
        webhook = repo.get_webhook(session, delivery.webhook_id)
        if webhook is None or webhook.disabled_at is not None:
            delivery.state = DeliveryState.failed
            delivery.last_error = "the webhook was disabled before delivery"
            session.flush()
            continue
        delivery.attempts += 1
        delivery.next_attempt_at = now + policy.lease
        session.flush()
        return DeliveryWork(
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            webhook_id=webhook.id,
            url=webhook.url,
            event_type=delivery.event.type,
            body=canonical_json(delivery.event.payload).encode("utf-8"),
        )


def record_attempt(
    session: Session,
    work: DeliveryWork,
    *,
    now: datetime,
    policy: RetryPolicy,
    status_code: int | None,
    error: str | None,
    rng: random.Random | None = None,
) -> str | None:
    """Record one attempt's outcome: a 2xx delivers; anything else retries later, or fails at the cap.

    Returns:
        The delivery's new state, or None when the attempt no longer owns the delivery (its lease lapsed
        and another sender claimed it): the newer attempt's outcome wins.
    """
    delivery = repo.locked_attempt(session, work.delivery_id, work.attempt)
    if delivery is None:
        return None
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        delivery.state = DeliveryState.delivered
        delivery.delivered_at = now
        delivery.last_error = None
    else:
        delivery.last_error = (error or f"HTTP {status_code}")[:MAX_ERROR_CHARS]
        if delivery.attempts >= policy.max_attempts:
            delivery.state = DeliveryState.failed
        else:
            delivery.next_attempt_at = now + policy.delay_after(delivery.attempts, rng=rng)
    session.flush()
    return delivery.state
