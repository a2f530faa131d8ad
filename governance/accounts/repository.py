"""Every query of accounts: users and their API tokens."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from governance.accounts.models import ApiToken, BrowserSession, User
from governance.kernel.pagination import Page
from governance.kernel.repository import keyset_page


def get_by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def display_names(session: Session, names: Iterable[str]) -> dict[str, str]:
    """Each existing user's display name (their user name when they have none), by user name, in one query."""
    names = sorted(set(names))
    if not names:
        return {}
    query = select(User.name, User.display_name).where(User.name.in_(names))
    return {name: display or name for name, display in session.execute(query)}


def users_page(session: Session, *, after: int, limit: int) -> Page[User]:
    return keyset_page(session, select(User), User.id, after=after, limit=limit)


# Built once: every authenticated request runs these, and building a statement costs more than running it.
_TOKEN_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))
_BROWSER_SESSION_BY_KEY_HASH = select(BrowserSession).where(BrowserSession.key_hash == bindparam("key_hash"))


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(_TOKEN_BY_HASH, {"token_hash": token_hash})


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def token_by_id(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def browser_session_by_key_hash(session: Session, key_hash: str) -> BrowserSession | None:
    return session.scalar(_BROWSER_SESSION_BY_KEY_HASH, {"key_hash": key_hash})


def browser_sessions_of(session: Session, user_id: int) -> list[BrowserSession]:
    """The user's sessions that are not revoked, newest first."""
    query = (
        select(BrowserSession)
        .where(BrowserSession.user_id == user_id, BrowserSession.revoked_at.is_(None))
        .order_by(BrowserSession.id.desc())
    )
    return list(session.scalars(query))


def browser_session_by_id(session: Session, session_id: int) -> BrowserSession | None:
    return session.get(BrowserSession, session_id)
