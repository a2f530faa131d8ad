"""Browser sessions: a signed cookie that names the user and the API token they signed in with.

The cookie never holds the token itself, only the id of its row, so revoking the token (or disabling
the user) ends every browser session made with it on the next request. The cookie also carries the
session's CSRF token and one-shot flash messages; it is signed (itsdangerous, with a key derived from
the server secret) and expires after ``SESSION_MAX_AGE`` seconds. HttpOnly keeps scripts away from it,
SameSite=Lax keeps other sites' forms from sending it, Secure is set whenever the request came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from governance.accounts import repository as users_repo
from governance.accounts.models import User
from governance.accounts.users import authenticate, hash_token, token_is_valid
from governance.kernel.errors import Unauthenticated
from governance.kernel.unit_of_work import UnitOfWork
from service.secret_key import server_secret_key

COOKIE_NAME = "steward_session"
SESSION_MAX_AGE = 8 * 60 * 60
MAX_FLASH_CHARS = 600
_SALT = "steward.web.session"


@dataclass
class WebSession:
    """The decoded cookie. ``dirty`` says the response must send it back."""

    csrf: str
    user_id: int | None = None
    token_id: int | None = None
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
        return {"c": self.csrf, "u": self.user_id, "t": self.token_id, "f": self.flashes}


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
    """The request's session, with its user when the token behind it is still good; a fresh one otherwise."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return WebSession.fresh()
    try:
        data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE)
        web = WebSession(
            csrf=str(data["c"]),
            user_id=data.get("u"),
            token_id=data.get("t"),
            flashes=list(data.get("f") or []),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        return WebSession.fresh()
    if web.user_id is not None:
        token = users_repo.token_by_id(db, web.token_id) if web.token_id is not None else None
        if token is None or token.user_id != web.user_id or not token_is_valid(token):
            # The token was revoked or the user disabled since sign-in: the session ends here.
            fresh = WebSession.fresh()
            fresh.flash("error", "Your session ended: the token you signed in with is no longer valid.")
            return fresh
        web.user = token.user
    return web


def sign_in(db: UnitOfWork, web: WebSession, token: str) -> User:
    """Exchange an API token for a session; the CSRF token is rotated so a planted one dies here."""
    user = authenticate(db, token.strip())
    row = users_repo.token_by_hash(db, hash_token(token.strip()))
    if row is None:  # authenticate has just read it: only a token deleted in between ends here
        raise Unauthenticated("that token is unknown or revoked")
    web.user_id, web.token_id, web.user = user.id, row.id, user
    web.csrf = secrets.token_urlsafe(32)
    web.dirty = True
    return user


def sign_out(web: WebSession) -> WebSession:
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
