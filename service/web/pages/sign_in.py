"""Signing in with an API token, and out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from governance.kernel.errors import Unauthenticated
from service.api.deps import DbSession
from service.web.routing import CsrfChecked, Web, WebRoute, redirect, render_page, safe_next
from service.web.sessions import sign_in, sign_out

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FormText = Annotated[str, Form()]


@dataclass(frozen=True)
class SignInPage:
    next: str
    """Where to go once signed in: a path on this site."""


@router.get("/sign-in", response_model=None)
def sign_in_page(request: Request, web: Web, next: str = "/") -> HTMLResponse | RedirectResponse:
    """Sign in with an API token."""
    if web.user is not None:
        return redirect(safe_next(next))
    return render_page(request, "sign_in.html", SignInPage(next=safe_next(next)))


@router.post("/sign-in", dependencies=[CsrfChecked])
def sign_in_submit(
    request: Request, session: DbSession, web: Web, token: FormText = "", next: FormText = "/"
) -> RedirectResponse:
    """Exchange a token for a session cookie."""
    try:
        user = sign_in(session, web, token, user_agent=request.headers.get("user-agent", ""))
    except Unauthenticated:
        web.flash("error", "That token is unknown or revoked. Paste the whole token, starting with stw_.")
        return redirect(f"/sign-in?next={quote(safe_next(next))}")
    web.flash("ok", f"Signed in as {user.name}.")
    return redirect(safe_next(next))


@router.post("/sign-out", dependencies=[CsrfChecked])
def sign_out_submit(request: Request, session: DbSession, web: Web) -> RedirectResponse:
    """End the session."""
    request.state.web = sign_out(session, web)
    return redirect("/sign-in")
