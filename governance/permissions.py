"""Who may do what. Every check raises ``Forbidden`` naming the rule that refused the action."""

from __future__ import annotations

from governance.errors import Forbidden
from governance.models import Component, Product, Role, User


def require_role(actor: User, *roles: Role, action: str) -> None:
    if not any(actor.has_role(role) for role in roles):
        wanted = " or ".join(role.value for role in roles)
        raise Forbidden(f"{action} requires the role {wanted}; {actor.name} has {', '.join(actor.roles) or 'none'}")


def require_admin(actor: User, *, action: str) -> None:
    require_role(actor, Role.admin, action=action)


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


def require_shared_owner(actor: User, component: Component, *, action: str) -> None:
    """Documents and processes are changed by their own owner or an admin."""
    if actor.has_role(Role.admin) or component.owner_id == actor.id:
        return
    owner = component.owner.name if component.owner else "nobody"
    raise Forbidden(f"{action} is for the owner of {component.kind} '{component.name}' ({owner}) or an admin")
