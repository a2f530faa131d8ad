"""Managing webhooks: create, list, disable, ping, and read their delivery log."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.permissions import require_admin
from governance.accounts.roles import Role
from governance.audit import trail as audit
from governance.catalog import repository as products_repo
from governance.catalog.permissions import require_product_manager
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Invalid, NotFound
from governance.kernel.pagination import Page
from governance.notifications import repository as repo
from governance.notifications.models import Webhook, WebhookDelivery
from governance.notifications.outbox import PING, _forget_webhooks, _outbox_event
from governance.notifications.schemas import WebhookCreate
from governance.notifications.signing import signing_secret


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
        return repo.webhooks_page(session, product_ids=[row.id], include_global=False, after=after, limit=limit)
    if actor.has_role(Role.admin):
        return repo.webhooks_page(session, product_ids=None, include_global=True, after=after, limit=limit)
    owned = repo.owned_product_ids(session, actor.id)
    return repo.webhooks_page(session, product_ids=owned, include_global=False, after=after, limit=limit)


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
    return repo.deliveries_page(session, webhook.id, before=before, limit=limit)


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
