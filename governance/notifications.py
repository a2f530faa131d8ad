"""Notifications: release events become outbox rows and pending webhook deliveries, in the change's transaction.

``record_event`` calls ``enqueue_for_audit_event`` for every audit event it appends, so each announced
state change and its notification commit or roll back together. ``enqueue_overdue`` announces missed
revalidation deadlines; any process may call it at any time. Sending happens elsewhere (``service.notify``),
outside the transaction, from the rows written here.

Outbox rows are written only for events at least one enabled webhook wants: with no subscribers a
1,000-product publish pays one small query per transaction, nothing per product.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance import audit
from governance.database import utcnow
from governance.errors import Conflict, Invalid, NotFound
from governance.models import AuditEvent, Product, Role, User
from governance.notification_tables import OutboxEvent, Webhook, WebhookDelivery
from governance.pagination import Page, page_of
from governance.permissions import require_admin, require_product_manager
from governance.release_tables import Release
from governance.repositories import notifications as repo
from governance.repositories import products as products_repo
from governance.schemas import Slug

RELEASE_CUT = "release.cut"
RUNS_FINISHED = "runs.finished"
SIGNOFF_REQUESTED = "signoff.requested"
APPROVAL_REQUESTED = "approval.requested"
RELEASE_APPROVED = "release.approved"
RELEASE_REJECTED = "release.rejected"
RELEASE_LIVE = "release.live"
REVALIDATION_OVERDUE = repo.OVERDUE
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
}

SECRET_PREFIX = "whsec_"
_CACHE_KEY = "steward.notifications.active_webhooks"


# --- signing -------------------------------------------------------------------------------------


def signing_secret(server_key: bytes, webhook_id: int) -> str:
    """A webhook's signing secret, derived (never stored) from the server's secret key and the webhook id."""
    digest = hmac.new(server_key, f"steward-webhook:{webhook_id}".encode(), hashlib.sha256).hexdigest()
    return SECRET_PREFIX + digest


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 keyed with the secret string over ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# --- payloads and views --------------------------------------------------------------------------


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
        links["release"] = f"/api/v1/releases/{release.id}"
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


# --- enqueueing ----------------------------------------------------------------------------------


def _active_webhooks(session: Session) -> list[tuple[int, int | None, frozenset[str]]]:
    # Read once per transaction: a publish touching 1,000 products must not ask 1,000 times. Webhook
    # changes in this session drop the cache; changes committed elsewhere meanwhile may race either way.
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    hooks = [(row.id, row.product_id, frozenset(row.events or ())) for row in repo.active_webhooks(session)]
    session.info[_CACHE_KEY] = (transaction, hooks)
    return hooks


def _forget_webhooks(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


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


def enqueue_for_audit_event(session: Session, event: AuditEvent) -> list[OutboxEvent]:
    """Turn an audit event into the notification events it announces, one pending delivery per subscriber.

    Args:
        session: The caller's session; rows are added, not flushed, and commit with the audited change.
        event: The audit event just appended.

    Returns:
        The outbox events written (none when the action announces nothing or nobody subscribed).
    """
    types = EVENTS_OF_ACTION.get(event.action)
    release_id = (event.after or {}).get("release_id")
    if not types or release_id is None:
        return []
    release = session.get(Release, release_id)
    if release is None:
        return []
    written = []
    for event_type in types:
        hooks = _subscribers(session, release.product_id, event_type)
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
        if not hooks:
            continue
        product = session.get(Product, release.product_id)
        outbox = _outbox_event(
            REVALIDATION_OVERDUE,
            webhook_ids=hooks,
            occurred_at=now,
            product_slug=product.slug if product else None,
            release=release,
            actor="system",
            reason=f"revalidation was due at {release.revalidation_due_at.isoformat()}",
            dedupe_key=f"{REVALIDATION_OVERDUE}:{release.id}",
        )
        try:
            with session.begin_nested():
                session.add(outbox)
        except IntegrityError:
            continue  # another process announced this release first
        written += 1
    return written


# --- webhooks ------------------------------------------------------------------------------------


def _require_manager(actor: User, webhook: Webhook, *, action: str) -> None:
    if webhook.product is None:
        require_admin(actor, action=f"{action} of a global webhook")
    else:
        require_product_manager(actor, webhook.product, action=action)


def _origin(url: str) -> str:
    # The audit trail is readable by every role; a URL's path or query may itself be a credential.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def create_webhook(session: Session, actor: User, data: WebhookCreate, *, server_key: bytes) -> tuple[Webhook, str]:
    """Register a webhook: admins for global ones, a product's owner or an admin for a product's.

    Returns:
        The webhook and its signing secret, which is shown to the caller once and never stored.
    """
    product = None
    if data.product is None:
        require_admin(actor, action="creating a global webhook")
    else:
        product = products_repo.get_by_slug(session, data.product)
        if product is None:
            raise Invalid(f"no product with slug '{data.product}'", field="product")
        require_product_manager(actor, product, action="creating a webhook")
    if repo.active_duplicate(session, data.url, product.id if product else None) is not None:
        scope = f"product '{product.slug}'" if product else "all products"
        raise Conflict(f"an enabled webhook for {scope} already posts to this URL", field="url")
    webhook = Webhook(product_id=product.id if product else None, url=data.url, events=data.events)
    webhook.product = product
    webhook.created_by = actor.name
    session.add(webhook)
    session.flush()
    _forget_webhooks(session)
    audit.record_event(
        session,
        actor=actor,
        action="webhook.created",
        subject_type="webhook",
        subject=str(webhook.id),
        product_slug=product.slug if product else None,
        after={"webhook_id": webhook.id, "origin": _origin(webhook.url), "events": webhook.events},
    )
    return webhook, signing_secret(server_key, webhook.id)


def get_webhook(session: Session, actor: User, webhook_id: int, *, action: str = "viewing a webhook") -> Webhook:
    webhook = repo.get_webhook(session, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook with id {webhook_id}", field="id")
    _require_manager(actor, webhook, action=action)
    return webhook


def list_webhooks(
    session: Session, actor: User, *, product: str | None = None, after: int = 0, limit: int = 50
) -> Page[Webhook]:
    """The webhooks the actor manages: all for admins, their products' for owners; one product's when named."""
    if product is not None:
        row = products_repo.get_by_slug(session, product)
        if row is None:
            raise NotFound(f"no product with slug '{product}'", field="product")
        require_product_manager(actor, row, action="listing webhooks")
        rows = repo.list_page(session, product_ids=[row.id], include_global=False, after_id=after, limit=limit + 1)
    elif actor.has_role(Role.admin):
        rows = repo.list_page(session, product_ids=None, include_global=True, after_id=after, limit=limit + 1)
    else:
        owned = repo.owned_product_ids(session, actor.id)
        rows = repo.list_page(session, product_ids=owned, include_global=False, after_id=after, limit=limit + 1)
    return page_of(rows, limit, key=lambda webhook: webhook.id)


def disable_webhook(session: Session, actor: User, webhook_id: int) -> Webhook:
    """Stop a webhook. Its pending deliveries fail; disabling twice changes nothing."""
    webhook = get_webhook(session, actor, webhook_id, action="disabling a webhook")
    if webhook.disabled_at is not None:
        return webhook
    webhook.disabled_at = utcnow()
    repo.fail_pending(session, webhook.id, reason="the webhook was disabled before delivery")
    session.flush()
    _forget_webhooks(session)
    audit.record_event(
        session,
        actor=actor,
        action="webhook.disabled",
        subject_type="webhook",
        subject=str(webhook.id),
        product_slug=webhook.product.slug if webhook.product else None,
        before={"webhook_id": webhook.id, "origin": _origin(webhook.url)},
    )
    return webhook


def list_deliveries(
    session: Session, actor: User, webhook_id: int, *, before: int = 0, limit: int = 50
) -> Page[WebhookDelivery]:
    """A webhook's delivery log, newest first, for whoever manages the webhook."""
    webhook = get_webhook(session, actor, webhook_id, action="reading a webhook's deliveries")
    rows = repo.deliveries_page(session, webhook.id, before_id=before, limit=limit + 1)
    return page_of(rows, limit, key=lambda delivery: delivery.id)


def enqueue_ping(session: Session, actor: User, webhook_id: int) -> WebhookDelivery:
    """Queue a ``ping`` event to one webhook, to check its receiver end to end."""
    webhook = get_webhook(session, actor, webhook_id, action="testing a webhook")
    if webhook.disabled_at is not None:
        raise Conflict(f"webhook {webhook.id} is disabled; create a new one", field="id")
    outbox = _outbox_event(
        PING,
        webhook_ids=[webhook.id],
        occurred_at=utcnow(),
        product_slug=webhook.product.slug if webhook.product else None,
        release=None,
        actor=actor.name,
        reason="test delivery requested",
    )
    session.add(outbox)
    session.flush()
    return outbox.deliveries[0]
