"""Who may change a product or a shared component. Every check raises ``Forbidden`` naming the rule."""

from __future__ import annotations

from governance.accounts.models import User
from governance.accounts.permissions import require_role
from governance.accounts.roles import Role
from governance.catalog.models import Component, Product
from governance.kernel.errors import Forbidden, Invalid


def can_manage_product(actor: User, product: Product) -> bool:
    return actor.has_role(Role.admin) or product.owner_id == actor.id


def require_product_manager(actor: User, product: Product, *, action: str) -> None:
    """The product's owner or an admin: changing the product itself or its links."""
    if not can_manage_product(actor, product):
        raise Forbidden(f"{action} is for the owner of '{product.slug}' ({product.owner.name}) or an admin")


def require_product_publisher(actor: User, product: Product, *, action: str) -> None:
    """Prompts and suites: the owner, an admin, or a CI token (CI pushes merged changes of any product)."""
    if can_manage_product(actor, product) or actor.has_role(Role.ci):
        return
    raise Forbidden(f"{action} is for the owner of '{product.slug}' ({product.owner.name}), an admin or a ci user")


def require_shared_creator(actor: User, *, action: str) -> None:
    require_role(actor, Role.admin, Role.product_owner, action=action)


def may_own_shared(user: User) -> bool:
    """Documents and processes are owned by admins and product owners, never by a ci-only or reviewer-only user."""
    return user.has_role(Role.admin) or user.has_role(Role.product_owner)


def require_may_own_shared(user: User, kind: str) -> None:
    """Refuse giving a document or process to someone who may not own one (on creation and on hand-over)."""
    if not may_own_shared(user):
        raise Invalid(
            f"'{user.name}' cannot own a {kind}: only an admin or a product_owner owns documents and processes",
            field="owner",
        )


def require_shared_owner(actor: User, component: Component, *, action: str) -> None:
    """Documents and processes are changed by their own owner (while they may own one) or an admin."""
    if actor.has_role(Role.admin) or (component.owner_id == actor.id and may_own_shared(actor)):
        return
    owner = component.owner.name if component.owner else "nobody"
    raise Forbidden(f"{action} is for the owner of {component.kind} '{component.name}' ({owner}) or an admin")
