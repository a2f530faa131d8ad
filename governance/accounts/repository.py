"""Queries over users and their API tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.accounts.models import ApiToken, User


def get_by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def get_by_names(session: Session, names: Sequence[str]) -> dict[str, User]:
    if not names:
        return {}
    return {user.name: user for user in session.scalars(select(User).where(User.name.in_(names)))}


def list_page(session: Session, *, after_id: int, limit: int) -> list[User]:
    query = select(User).where(User.id > after_id).order_by(User.id).limit(limit)
    return list(session.scalars(query))


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def token_by_id(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)
