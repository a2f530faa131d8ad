"""The web app's plumbing: templates, the session and CSRF dependencies, and the route class that turns
domain refusals into pages (GET) or flash messages after a redirect (POST).

Routes reuse the API's unit of work (``get_session``): a refused action raises, ``get_session`` rolls the
transaction back, and only then does :class:`WebRoute` turn the error into HTML. Nothing half-written is
ever committed, and the domain's own message (naming the rule) is what the user reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from governance.accounts.models import User
from governance.kernel.errors import DomainError, Unauthenticated, field_path
from governance.releases.reading import release_id_at
from service.api.deps import DbSession
from service.api.problems import DATABASE_RETRY_AFTER_SECONDS, database_unavailable
from service.web.sessions import WebSession, load_session, save_session

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# htmx needs no inline script or style (its indicator styles are switched off in base.html), so the policy
# can forbid both: an injected <script> in any rendered text would not run even if escaping ever failed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, pct=_pct, pretty=_pretty)
    return env


templates = Jinja2Templates(env=_environment())


class SignInRequired(Exception):
    """No signed-in user: the browser is sent to the sign-in page and back afterwards."""


class CsrfRefused(Exception):
    """A form arrived without this session's CSRF token, or from another origin."""


def get_web_session(request: Request, db: DbSession) -> WebSession:
    web = load_session(request, db)
    request.state.web = web
    return web


Web = Annotated[WebSession, Depends(get_web_session)]


def get_web_user(web: Web) -> User:
    if web.user is None:
        raise SignInRequired
    return web.user


WebUser = Annotated[User, Depends(get_web_user)]


def check_csrf(request: Request, web: Web, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every form carries the session's token; a browser also names its origin, which must be ours."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRefused
    if not web.csrf_matches(csrf_token):
        raise CsrfRefused


CsrfChecked = Depends(check_csrf)


def safe_next(target: str | None) -> str:
    """Only paths on this site: a sign-in link must not become an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def render(request: Request, template: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    web: WebSession = getattr(request.state, "web", None) or WebSession.fresh()
    full = {"user": web.user, "csrf_token": web.csrf, "flashes": web.pop_flashes(), "path": request.url.path}
    full.update(context)
    return templates.TemplateResponse(request, template, full, status_code=status_code)


def render_page(request: Request, template: str, page: DataclassInstance, *, status_code: int = 200) -> HTMLResponse:
    """Render what a page's presenter returned: each field of its dataclass is a name the template reads, and
    ``page`` is the presenter's result itself (for its properties)."""
    context = {field.name: getattr(page, field.name) for field in fields(page)}
    return render(request, template, {**context, "page": page}, status_code=status_code)


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def release_page_path(product_slug: str, number: int) -> str:
    """A release's page, by the identifier people quote: its product and its number within it."""
    return f"/products/{quote(product_slug)}/releases/{int(number)}"


def _release_at(slug: str, number: Annotated[int, PathParam(ge=1)], session: DbSession) -> int:
    """The release a page's path names by its product and number (the identifier people quote)."""
    return release_id_at(session, slug, number)


# A page's release, from ``/products/{slug}/releases/{number}/...``: its global id, for the domain's functions.
ReleaseAt = Annotated[int, Depends(_release_at)]


def _back_to(request: Request) -> str:
    """Where a refused form sends the browser: the release it acted on, else the page it came from."""
    slug, number = request.path_params.get("slug"), request.path_params.get("number")
    if slug is not None and number is not None and number.isdigit():
        return release_page_path(slug, int(number))
    if request.url.path == "/sign-in":
        return "/sign-in" + (f"?next={quote(request.query_params['next'])}" if "next" in request.query_params else "")
    return "/"


def _error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "detail": detail, "status": status}, status_code=status)


class WebRoute(APIRoute):
    """An API route that answers in HTML: refusals become pages or flashes, and the session cookie is saved."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    target = _back_to(request)
                response = redirect(f"/sign-in?next={quote(target)}")
            except CsrfRefused:
                response = _error_page(
                    request,
                    403,
                    "Form refused",
                    "The form did not carry this session's security token (CSRF), so nothing was done. "
                    "Reload the page and submit it again.",
                )
            except RequestValidationError as exc:
                fields = ", ".join(field_path(error.get("loc", ())[1:]) for error in exc.errors())
                response = _error_page(
                    request, 422, "Invalid request", f"These parts of the address are invalid: {fields}"
                )
            except DomainError as exc:
                if request.method == "POST" and not isinstance(exc, Unauthenticated):
                    web: WebSession | None = getattr(request.state, "web", None)
                    if web is not None:
                        web.flash("error", f"Refused: {exc.detail}")
                    response = redirect(_back_to(request))
                elif isinstance(exc, Unauthenticated):
                    response = redirect("/sign-in")
                else:
                    response = _error_page(request, exc.status, exc.title, exc.detail)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise  # a fault of ours: the app's 500 handler answers
                response = _error_page(
                    request,
                    503,
                    "Temporarily unavailable",
                    "Steward cannot reach its database just now, so nothing was done. Try again in a few seconds.",
                )
                response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
            web = getattr(request.state, "web", None)
            if web is not None:
                save_session(request, response, web)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            # Pages show decisions that change under the user; a cached copy would offer stale buttons.
            if not request.url.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-store")
            return response

        return route
