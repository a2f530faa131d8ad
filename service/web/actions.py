"""Forms that change something: sign-in and sign-out, and the decisions on a release.

Every form is a POST that carries the session's CSRF token and ends in a 303 redirect (post/redirect/get),
so reloading a result page never repeats a decision. The decision itself is the domain's: a refusal it
raises rolls the transaction back and comes back to the release page as a message naming the rule.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from governance.kernel.errors import FieldProblem, Invalid, Unauthenticated
from governance.releases import cutting as releases
from governance.releases.models import Release
from governance.review import decisions
from service.api.deps import DbSession
from service.web.routing import CsrfChecked, Web, WebRoute, WebUser, redirect, render, safe_next
from service.web.sessions import sign_in, sign_out

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FormText = Annotated[str, Form()]
M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], **fields: str | None) -> M:
    """Build the domain's request model; its validation message becomes the refusal the user reads."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = [
            FieldProblem(field=".".join(str(p) for p in error["loc"]) or "form", reason=error["msg"])
            for error in exc.errors()
        ]
        detail = "; ".join(f"{p.field}: {p.reason.removeprefix('Value error, ')}" for p in problems)
        raise Invalid(detail, problems=problems) from exc


@router.get("/sign-in")
def sign_in_page(request: Request, web: Web, next: str = "/") -> object:
    """Sign in with an API token."""
    if web.user is not None:
        return redirect(safe_next(next))
    return render(request, "sign_in.html", {"next": safe_next(next)})


@router.post("/sign-in", dependencies=[CsrfChecked])
def sign_in_submit(session: DbSession, web: Web, token: FormText = "", next: FormText = "/") -> RedirectResponse:
    """Exchange a token for a session cookie."""
    try:
        user = sign_in(session, web, token)
    except Unauthenticated:
        web.flash("error", "That token is unknown or revoked. Paste the whole token, starting with stw_.")
        return redirect(f"/sign-in?next={quote(safe_next(next))}")
    web.flash("ok", f"Signed in as {user.name}.")
    return redirect(safe_next(next))


@router.post("/sign-out", dependencies=[CsrfChecked])
def sign_out_submit(request: Request, web: Web) -> RedirectResponse:
    """End the session."""
    request.state.web = sign_out(web)
    return redirect("/sign-in")


def _done(web, release: Release, text: str) -> RedirectResponse:
    web.flash("ok", text)
    return redirect(f"/releases/{release.id}")


@router.post("/releases/{release_id}/signoff", dependencies=[CsrfChecked])
def sign_off(release_id: int, session: DbSession, user: WebUser, web: Web, note: FormText = "") -> RedirectResponse:
    """The owner signs off a release whose runs passed."""
    release = decisions.sign_off(session, user, release_id, _parse(decisions.SignOffRequest, note=note))
    return _done(web, release, f"Signed off release {release.number}.")


@router.post("/releases/{release_id}/waive", dependencies=[CsrfChecked])
def waive(
    release_id: int, session: DbSession, user: WebUser, web: Web, waiver: FormText = "", note: FormText = ""
) -> RedirectResponse:
    """The owner signs off a failed release with a written waiver."""
    data = _parse(decisions.SignOffRequest, note=note, waiver=waiver)
    release = decisions.sign_off(session, user, release_id, data)
    return _done(web, release, f"Signed off release {release.number} with a waiver.")


@router.post("/releases/{release_id}/approve", dependencies=[CsrfChecked])
def approve(release_id: int, session: DbSession, user: WebUser, web: Web, note: FormText = "") -> RedirectResponse:
    """An independent reviewer approves."""
    release = decisions.approve(session, user, release_id, _parse(decisions.ApproveRequest, note=note))
    return _done(web, release, f"Approved release {release.number}; it is now {release.state.replace('_', ' ')}.")


@router.post("/releases/{release_id}/reject", dependencies=[CsrfChecked])
def reject(release_id: int, session: DbSession, user: WebUser, web: Web, reason: FormText = "") -> RedirectResponse:
    """An independent reviewer rejects, with a reason."""
    release = decisions.reject(session, user, release_id, _parse(decisions.RejectRequest, reason=reason))
    return _done(web, release, f"Rejected release {release.number}.")


@router.post("/releases/{release_id}/go-live", dependencies=[CsrfChecked])
def go_live(release_id: int, session: DbSession, user: WebUser, web: Web) -> RedirectResponse:
    """The owner or an admin takes an approved release live."""
    release = decisions.go_live(session, user, release_id)
    return _done(web, release, f"Release {release.number} is live.")


@router.post("/releases/{release_id}/rerun", dependencies=[CsrfChecked])
def rerun(release_id: int, session: DbSession, user: WebUser, web: Web) -> RedirectResponse:
    """Run every suite of the release again."""
    runs = decisions.rerun_release(session, user, release_id)
    release = releases.get_release(session, release_id)
    return _done(web, release, f"Re-running {len(runs)} suite(s) of release {release.number}.")
