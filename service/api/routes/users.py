from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from governance.accounts import browser_sessions
from governance.accounts import users as accounts
from governance.accounts.schemas import (
    CreatedUserView,
    SessionView,
    TokenView,
    UserCreate,
    UserView,
    session_view,
    token_view,
    user_view,
)
from governance.kernel.pagination import PageView
from governance.serving import accounts as serving_accounts
from service.api.deps import CurrentUser, DbSession, Paging
from service.api.live_pointers import forget_every_grant

router = APIRouter(tags=["users"])


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user and show their token once.")
def create_user(body: UserCreate, session: DbSession, actor: CurrentUser) -> CreatedUserView:
    """Create a user and show their token once."""
    user, token = serving_accounts.create_user(session, actor, body)
    return CreatedUserView(**user_view(user).model_dump(), token=token)


@router.get("/users", summary="List users (admins).")
def list_users(session: DbSession, actor: CurrentUser, page: Paging) -> PageView[UserView]:
    """List users (admins)."""
    result = accounts.list_users(session, actor, after=page.after, limit=page.limit)
    return PageView(items=[user_view(u) for u in result.items], next=result.next)


@router.get("/me", summary="The caller's own user.")
def me(actor: CurrentUser) -> UserView:
    """The caller's own user."""
    return user_view(actor)


@router.get("/me/tokens", summary="The caller's tokens (prefixes only).")
def my_tokens(session: DbSession, actor: CurrentUser) -> list[TokenView]:
    """The caller's tokens (prefixes only)."""
    return [token_view(t) for t in accounts.list_tokens(session, actor)]


@router.get("/me/sessions", summary="The caller's signed-in browsers.")
def my_sessions(session: DbSession, actor: CurrentUser) -> list[SessionView]:
    """The caller's signed-in browsers."""
    return [session_view(row) for row in browser_sessions.list_sessions(session, actor)]


@router.delete("/me/sessions/{session_id}", summary="Sign one of the caller's browsers out.")
def revoke_my_session(session_id: int, session: DbSession, actor: CurrentUser) -> SessionView:
    """Sign one of the caller's browsers out."""
    return session_view(browser_sessions.revoke_session(session, actor, session_id))


@router.post(
    "/users/{name}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue another token (self or admin).",
    response_model=dict[str, Any],
)
def issue_token(name: str, session: DbSession, actor: CurrentUser, label: str = "") -> dict[str, Any]:
    """Issue another token (self or admin)."""
    row, token = accounts.create_token(session, actor, name, label=label)
    return {**token_view(row).model_dump(mode="json"), "token": token}


@router.delete("/tokens/{token_id}", summary="Revoke a token (its user or an admin).")
def revoke_token(token_id: int, session: DbSession, actor: CurrentUser) -> TokenView:
    """Revoke a token (its user or an admin)."""
    revoked = token_view(accounts.revoke_token(session, actor, token_id))
    # A running product's remembered 304s need the full check again: at once, and once the revocation commits
    # (a fetch between the two would have been granted on the token as it still was).
    forget_every_grant()
    session.after_commit(forget_every_grant)
    return revoked
