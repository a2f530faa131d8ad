"""Users and API tokens. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.orm import Session

from governance.accounts import repository as users_repo
from governance.accounts.models import ApiToken, User
from governance.accounts.permissions import require_admin
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.audit.trail import record_event
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from governance.kernel.pagination import Page

TOKEN_PREFIX = "stw_"


def hash_token(token: str) -> str:
    # Tokens carry 256 bits of entropy, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(session: Session, actor: User | None, data: UserCreate) -> tuple[User, str]:
    """Create a user and their first token. ``actor`` None is the bootstrap path (CLI, demo seed)."""
    if actor is not None:
        require_admin(actor, action="creating users")
    _check_scope(data)
    if users_repo.get_by_name(session, data.name) is not None:
        raise Conflict(f"a user named '{data.name}' already exists", field="name")
    user = User(
        name=data.name,
        display_name=data.display_name or data.name,
        email=data.email,
        roles=sorted({role.value for role in data.roles}),
        products=sorted(set(data.products)),
    )
    session.add(user)
    session.flush()
    token = issue_token(session, user, label="initial")
    record_event(
        session,
        actor=actor or "system",
        action="user.created",
        subject_type="user",
        subject=user.name,
        after={"name": user.name, "roles": user.roles, **({"products": user.products} if user.products else {})},
    )
    return user, token


def _check_scope(data: UserCreate) -> None:
    """A runtime user holds no other role and names the products it serves; nobody else is scoped to products."""
    if Role.runtime in data.roles:
        if set(data.roles) != {Role.runtime}:
            raise Invalid("a runtime user holds no other role: a running product decides nothing", field="roles")
        if not data.products:
            raise Invalid("a runtime user names the products it serves", field="products")
    elif data.products:
        raise Invalid("only a runtime user is scoped to products", field="products")


def _issue(session: Session, user: User, label: str) -> tuple[ApiToken, str]:
    token = new_token()
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:8], label=label)
    session.add(row)
    session.flush()
    return row, token


def issue_token(session: Session, user: User, *, label: str = "") -> str:
    """A new token for ``user``, returned in clear once; only its hash is stored."""
    return _issue(session, user, label)[1]


def create_token(session: Session, actor: User, user_name: str, *, label: str = "") -> tuple[ApiToken, str]:
    """Issue another token for a user: admins for anyone, users for themselves."""
    # The role is checked before the name is looked up: a refusal must not tell who exists.
    if user_name != actor.name:
        require_admin(actor, action="issuing tokens for another user")
    user = get_user(session, user_name)
    row, token = _issue(session, user, label)
    record_event(
        session,
        actor=actor,
        action="token.issued",
        subject_type="user",
        subject=user.name,
        after={"token_id": row.id, "prefix": row.prefix, "label": label},
    )
    return row, token


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Revoke a token: its own user may, an admin may revoke anyone's. Revoking twice changes nothing.

    An admin may not revoke their own last valid token (``Conflict``): that would lock the only people who
    can issue tokens out by accident; they issue a new token first. Other users may revoke their last token,
    since revoking a leaked token must never wait, and an admin can issue them a new one.
    """
    row = users_repo.token_by_id(session, token_id)
    if row is None:
        raise NotFound(f"no token with id {token_id}")
    if row.user_id != actor.id:
        require_admin(actor, action="revoking another user's token")
    elif row.revoked_at is None and actor.has_role(Role.admin):
        others = [t for t in users_repo.tokens_of(session, actor.id) if t.id != row.id and t.revoked_at is None]
        if not others:
            raise Conflict(
                f"token {row.id} is {actor.name}'s last valid token and {actor.name} is an admin: revoking it "
                "would lock them out; issue a new token first, then revoke this one"
            )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_event(
            session,
            actor=actor,
            action="token.revoked",
            subject_type="user",
            subject=row.user.name,
            after={"token_id": row.id, "prefix": row.prefix},
        )
    session.flush()
    return row


def token_is_valid(token: ApiToken) -> bool:
    """A token signs its user in while it is not revoked and the user is not disabled: for the API and the browser."""
    return token.revoked_at is None and token.user.disabled_at is None


RUNTIME_SCOPE = "a runtime token may only read its products' live release and send feedback on them"


def authenticated_token(session: Session, token: str | None, *, runtime: bool = False) -> ApiToken:
    """The stored row of a valid bearer token, or ``Unauthenticated``. Revoked tokens and disabled users fail.

    A runtime user's token is refused (``Forbidden``) unless the caller is one of the few places it may go
    (``runtime=True``): everything is closed to a running product unless opened on purpose.
    """
    if not token:
        raise Unauthenticated("send an API token as 'Authorization: Bearer <token>'")
    row = users_repo.token_by_hash(session, hash_token(token))
    if row is None or not token_is_valid(row):
        raise Unauthenticated("the API token is unknown or revoked")
    if row.user.is_runtime and not runtime:
        raise Forbidden(RUNTIME_SCOPE)
    return row


def authenticate(session: Session, token: str | None, *, runtime: bool = False) -> User:
    """The user a bearer token belongs to, or ``Unauthenticated``; runtime users only where ``runtime``."""
    return authenticated_token(session, token, runtime=runtime).user


def require_serves(user: User, product_slug: str) -> None:
    """A runtime user acts only for the products it was created for; other users are not scoped."""
    if user.is_runtime and product_slug not in user.products:
        raise Forbidden(f"{user.name} is a runtime user for {', '.join(user.products)}, not for '{product_slug}'")


def user_or_none(session: Session, name: str) -> User | None:
    """The user with this name, or None; ``get_user`` raises ``NotFound`` instead."""
    return users_repo.get_by_name(session, name)


def get_user(session: Session, name: str) -> User:
    user = users_repo.get_by_name(session, name)
    if user is None:
        raise NotFound(f"no user named '{name}'", field="name")
    return user


def list_users(session: Session, actor: User, *, after: int, limit: int) -> Page[User]:
    require_admin(actor, action="listing users")
    return users_repo.users_page(session, after=after, limit=limit)


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return users_repo.tokens_of(session, user.id)
