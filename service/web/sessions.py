"""Browser sessions: a signed cookie that carries the key of a session kept on the server.

The session itself is a row (``governance.accounts.browser_sessions``): signing out revokes it, so the old
cookie opens nothing afterwards; it also ends when the token it was made with is revoked, the user is
disabled, or it goes unused for ``STEWARD_WEB_SESSION_IDLE_MINUTES``. The cookie carries the session's key
(the server keeps only its hash), the CSRF token and one-shot flash messages; it is signed (itsdangerous,
with a key derived from the server secret) and expires after ``SESSION_MAX_AGE`` seconds whatever happens.
HttpOnly keeps scripts away from it, SameSite=Lax keeps other sites' forms from sending it, Secure is set
whenever the request came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from governance.accounts.browser_sessions import (
    current_session,
    end_session,
    needs_touch,
    start_session,
    touch_session,
)
from governance.accounts.models import User
from governance.accounts.users import authenticated_token
from governance.kernel.unit_of_work import UnitOfWork
from service.database import reads_only, transaction
from service.secret_key import server_secret_key

COOKIE_NAME = "steward_session"
SESSION_MAX_AGE = 8 * 60 * 60
MAX_FLASH_CHARS = 600
_SALT = "steward.web.session"


@dataclass
class WebSession:
    """The decoded cookie. ``dirty`` says the response must send it back."""

    csrf: str
    key: str | None = None
    """The server-side session's key, once signed in."""
    flashes: list[dict[str, str]] = field(default_factory=list)
    dirty: bool = False
    user: User | None = None

    @classmethod
    def fresh(cls) -> WebSession:
        return cls(csrf=secrets.token_urlsafe(32), dirty=True)

    def flash(self, kind: str, text: str) -> None:
        """Keep a message for the next page; long domain messages are cut so the cookie stays small."""
        if len(text) > MAX_FLASH_CHARS:
            text = text[: MAX_FLASH_CHARS - 1] + "…"
        self.flashes.append({"kind": kind, "text": text})
        self.dirty = True

    def pop_flashes(self) -> list[dict[str, str]]:
        flashes, self.flashes = self.flashes, []
        if flashes:
            self.dirty = True
        return flashes

    def csrf_matches(self, submitted: str) -> bool:
        return bool(submitted) and hmac.compare_digest(submitted.encode(), self.csrf.encode())

    def payload(self) -> dict[str, Any]:
        return {"c": self.csrf, "k": self.key, "f": self.flashes}


def _serializer(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    serializer = getattr(state, "web_session_serializer", None)
    if serializer is None:
        # A key of its own, derived from the server secret, so a cookie signature never doubles as a webhook one.
        key = hmac.new(server_secret_key(state.settings), _SALT.encode(), hashlib.sha256).hexdigest()
        serializer = URLSafeTimedSerializer(key, salt=_SALT)
        state.web_session_serializer = serializer
    return serializer


def load_session(request: Request, db: UnitOfWork) -> WebSession:
    """The request's session, with its user while the server-side session is good; a fresh one otherwise."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return WebSession.fresh()
    try:
        data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE)
        key = data.get("k")
        web = WebSession(
            csrf=str(data["c"]),
            key=str(key) if key else None,
            flashes=list(data.get("f") or []),
        )
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return WebSession.fresh()
    if web.key is not None:
        idle = timedelta(minutes=request.app.state.settings.web_session_idle_minutes)
        reading = reads_only(db)
        current = current_session(db, web.key, idle=idle, touch=not reading)
        if reading and current is not None and needs_touch(current):
            # A page view's transaction only reads (no write lock on SQLite, so it could not take one later
            # without failing busy): the seen-at goes in a short transaction of its own.
            with transaction(request.app.state.session_factory) as writer:
                touch_session(writer, web.key)
        if current is None:
            # Signed out elsewhere, revoked, idle too long, or the token behind it is no longer valid.
            fresh = WebSession.fresh()
            fresh.flash("error", "Your session ended: sign in again.")
            return fresh
        web.user = current.user
    return web


def sign_in(db: UnitOfWork, web: WebSession, token: str, *, user_agent: str = "") -> User:
    """Exchange an API token for a server-side session; the CSRF token is rotated so a planted one dies here."""
    row = authenticated_token(db, token.strip())
    _, web.key = start_session(db, row, user_agent=user_agent)
    web.user = row.user
    web.csrf = secrets.token_urlsafe(32)
    web.dirty = True
    return row.user


def sign_out(db: UnitOfWork, web: WebSession) -> WebSession:
    """End the server-side session, so this cookie (and any copy of it) opens nothing any more."""
    if web.key is not None:
        end_session(db, web.key)
    fresh = WebSession.fresh()
    fresh.flash("ok", "You are signed out.")
    return fresh


def save_session(request: Request, response: Response, web: WebSession) -> None:
    if not web.dirty:
        return
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(web.payload()),
        max_age=SESSION_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
