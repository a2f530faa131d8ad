"""The stop button: a human overseer suspends a product, and only a second person (or a new release) restarts it.

While suspended, the live endpoint refuses to serve (423) and the client raises, so the application falls back
to its non-AI path. Lifting needs a reviewer who neither imposed the suspension nor owns the product, or a new
release going live: that release passed every gate again, which is the fresh approval the stop asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.permissions import require_role
from governance.accounts.roles import Role
from governance.audit.events import Actor, AuditRecorded, actor_name
from governance.audit.trail import begin_write, record_event
from governance.catalog import repository as catalog_repo
from governance.catalog.models import Product
from governance.catalog.products import get_product
from governance.compliance.obligations import overseers_of
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Forbidden
from governance.kernel.events import subscribe
from governance.kernel.unit_of_work import unit_of
from governance.releases.events import ReleaseWentLive
from governance.serving import repository
from governance.serving.models import Suspension
from governance.serving.schemas import ResumeRequest, SuspendRequest, SuspensionView


def _locked_product(session: Session, slug: str) -> Product:
    product = get_product(session, slug)
    _lock(session, product)
    return product


def _lock(session: Session, product: Product) -> None:
    begin_write(session)
    catalog_repo.lock_products(session, [product.id])


def _stop(session: Session, product: Product, actor: Actor, reason: str, **noted: object) -> Suspension:
    """Record a suspension in force and its audit event."""
    stop = Suspension(product_id=product.id, reason=reason, suspended_by=actor_name(actor), suspended_at=utcnow())
    session.add(stop)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="product.suspended",
        subject_type="product",
        subject=product.slug,
        product_slug=product.slug,
        after={"suspended": True, "reason": reason, **noted},
        reason=reason,
    )
    return stop


def suspend(session: Session, actor: User, slug: str, data: SuspendRequest) -> Suspension:
    """Stop a product now: its owner, its named overseers (Art. 14), any reviewer or an admin may.

    Raises:
        Forbidden: the actor is not the owner, a named overseer, a reviewer or an admin.
        Conflict: the product is already suspended.
    """
    product = _locked_product(session, slug)
    may = actor.id == product.owner_id or actor.has_role(Role.reviewer) or actor.has_role(Role.admin)
    if not may and actor.name not in overseers_of(session, product.id):
        raise Forbidden(
            f"suspending '{slug}' is for its owner ({product.owner.name}), its named overseers, a reviewer or an admin"
        )
    current = repository.active_suspension(session, product.id)
    if current is not None:
        raise Conflict(
            f"'{slug}' is already suspended since {current.suspended_at:%Y-%m-%d %H:%M} by {current.suspended_by}",
            field="state",
        )
    return _stop(session, product, actor, data.reason)


def suspend_by_policy(session: Session, product: Product, reason: str) -> Suspension | None:
    """Stop a product because its policy says so (a KPI limit crossed); None when it is already stopped.

    No person pressed the button, so ``system`` is the one who suspended it: any reviewer who does not own the
    product may resume it.
    """
    _lock(session, product)
    if repository.active_suspension(session, product.id) is not None:
        return None
    return _stop(session, product, "system", reason, by_policy=True)


def resume(session: Session, actor: User, slug: str, data: ResumeRequest) -> Suspension:
    """Start a suspended product again, on a fresh approval by a second person.

    Raises:
        Forbidden: the actor is not a reviewer, imposed the suspension, or owns the product.
        Conflict: the product is not suspended.
    """
    product = _locked_product(session, slug)
    require_role(actor, Role.reviewer, action="resuming a suspended product")
    current = repository.active_suspension(session, product.id)
    if current is None:
        raise Conflict(f"'{slug}' is not suspended", field="state")
    if actor.name == current.suspended_by:
        raise Forbidden(f"{actor.name} suspended '{slug}': another reviewer approves starting it again (four eyes)")
    if actor.id == product.owner_id:
        raise Forbidden(f"{actor.name} owns '{slug}': an owner never approves restarting their own product")
    _lift(session, product, current, actor, data.note)
    return current


def _lift(session: Session, product: Product, stop: Suspension, actor: Actor, reason: str) -> None:
    stop.lifted_at = utcnow()
    stop.lifted_by = actor_name(actor)
    stop.lift_reason = reason
    session.flush()
    record_event(
        session,
        actor=actor,
        action="product.resumed",
        subject_type="product",
        subject=product.slug,
        product_slug=product.slug,
        before={"suspended": True, "reason": stop.reason, "suspended_by": stop.suspended_by},
        after={"suspended": False},
        reason=reason,
    )


@subscribe(ReleaseWentLive)
def lift_on_go_live(session: Session, event: ReleaseWentLive) -> None:
    """A new release that went through every gate again lifts the product's suspension."""
    current = repository.active_suspension(session, event.product.id)
    if current is not None:
        _lift(session, event.product, current, event.actor, f"release {event.release.number} went live")


def suspension_view(session: Session, actor: User, slug: str) -> SuspensionView:
    """The product's suspension in force, or its last one lifted; any user may read it."""
    product = get_product(session, slug)
    latest = repository.suspensions_of(session, product.id, limit=1)
    if not latest:
        return SuspensionView(product=slug, suspended=False)
    stop = latest[0]
    return SuspensionView(
        product=slug,
        suspended=stop.lifted_at is None,
        reason=stop.reason,
        suspended_by=stop.suspended_by,
        suspended_at=stop.suspended_at,
        lifted_by=stop.lifted_by,
        lifted_at=stop.lifted_at,
        lift_reason=stop.lift_reason,
    )


# --- who must forget a remembered live pointer ---------------------------------------------------------------

# The audit actions after which a product's live pointer (its live release, whether it is stopped) has moved.
MOVES_THE_POINTER = frozenset({"product.suspended", "product.resumed", "release.live", "release.retired"})

_pointer_listeners: list[Callable[[str], None]] = []


def when_pointer_moves(listener: Callable[[str], None]) -> None:
    """Call ``listener(slug)`` when a product's live pointer moves: at once, and again when the change commits.

    An edge that remembers pointers (``service.api.live_pointers``) forgets them here, so a stop takes effect
    on the next request to the server that made it.
    """
    if listener not in _pointer_listeners:
        _pointer_listeners.append(listener)


@subscribe(AuditRecorded)
def _announce_moved_pointer(session: Session, recorded: AuditRecorded) -> None:
    slug = recorded.event.product_slug
    if recorded.event.action not in MOVES_THE_POINTER or slug is None or not _pointer_listeners:
        return

    def announce() -> None:
        for listener in list(_pointer_listeners):
            listener(slug)

    announce()
    unit_of(session).after_commit(announce)
