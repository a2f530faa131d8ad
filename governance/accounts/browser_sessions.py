"""Browser sessions kept on the server: started by signing in with a token, ended by signing out.

The browser holds a random key (in a signed cookie); the server keeps only its SHA-256, the user, the token
it was made with, and when it was last used. A session counts while it is not revoked, its token is valid
(not revoked, user not disabled) and it was used within the idle limit. Each user sees and revokes their own.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from governance.accounts import repository as users_repo
from governance.accounts.models import ApiToken, BrowserSession, User
from governance.accounts.users import token_is_valid
from governance.audit.trail import record_event
from governance.kernel.db import utcnow
from governance.kernel.errors import NotFound

# Seen-at is written at most this often: most page views then write nothing.
_TOUCH_EVERY = timedelta(minutes=1)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def start_session(session: Session, token: ApiToken, *, user_agent: str = "") -> tuple[BrowserSession, str]:
    """A new browser session for the token's user; returns the row and the key for the cookie (shown once)."""
    key = secrets.token_urlsafe(32)
    row = BrowserSession(key_hash=_key_hash(key), user_id=token.user_id, token_id=token.id, user_agent=user_agent[:300])
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=token.user,
        action="session.started",
        subject_type="user",
        subject=token.user.name,
        after={"session_id": row.id, "token_id": token.id},
    )
    return row, key


def current_session(
    session: Session, key: str, *, idle: timedelta, now: datetime | None = None, touch: bool = True
) -> BrowserSession | None:
    """The live session the key names, or None: unknown, revoked, idle too long, or its token no longer valid.

    With ``touch`` its seen-at is brought up to date (a write); a caller whose transaction only reads passes
    ``touch=False`` and, when ``needs_touch`` says so, calls ``touch_session`` in a transaction of its own.
    """
    row = users_repo.browser_session_by_key_hash(session, _key_hash(key))
    now = now or utcnow()
    if row is None or row.revoked_at is not None or not token_is_valid(row.token):
        return None
    if now - row.last_seen_at > idle:
        return None
    if touch and needs_touch(row, now):
        row.last_seen_at = now
        session.flush()
    return row


def needs_touch(row: BrowserSession, now: datetime | None = None) -> bool:
    """Whether the session's seen-at is old enough to be written again."""
    return (now or utcnow()) - row.last_seen_at > _TOUCH_EVERY


def touch_session(session: Session, key: str, now: datetime | None = None) -> None:
    """Record that the session the key names was used now (at most once per minute; a revoked one stays as is)."""
    row = users_repo.browser_session_by_key_hash(session, _key_hash(key))
    now = now or utcnow()
    if row is not None and row.revoked_at is None and needs_touch(row, now):
        row.last_seen_at = now
        session.flush()


def end_session(session: Session, key: str) -> None:
    """Sign out: the session's key stops working everywhere at once."""
    row = users_repo.browser_session_by_key_hash(session, _key_hash(key))
    if row is not None and row.revoked_at is None:
        _revoke(session, row, row.user)


def list_sessions(session: Session, actor: User) -> list[BrowserSession]:
    return users_repo.browser_sessions_of(session, actor.id)


def revoke_session(session: Session, actor: User, session_id: int) -> BrowserSession:
    """Revoke one of the actor's own sessions (another user's session is not found, whoever asks)."""
    row = users_repo.browser_session_by_id(session, session_id)
    if row is None or row.user_id != actor.id:
        raise NotFound(f"you have no session with id {session_id}", field="id")
    if row.revoked_at is None:
        _revoke(session, row, actor)
    return row


def _revoke(session: Session, row: BrowserSession, actor: User) -> None:
    row.revoked_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="session.revoked",
        subject_type="user",
        subject=row.user.name,
        after={"session_id": row.id},
    )
