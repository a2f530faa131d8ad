"""Role checks. Every check raises ``Forbidden`` naming the rule that refused the action."""

from __future__ import annotations

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.kernel.errors import Forbidden


def require_role(actor: User, *roles: Role, action: str) -> None:
    if not any(actor.has_role(role) for role in roles):
        wanted = " or ".join(role.value for role in roles)
        raise Forbidden(f"{action} requires the role {wanted}; {actor.name} has {', '.join(actor.roles) or 'none'}")


def require_admin(actor: User, *, action: str) -> None:
    require_role(actor, Role.admin, action=action)
