"""A release: why it is where it is, what changed, the evidence, the decisions, and the forms of those the user may
take now.

Which forms the page offers, and why not the others, comes from the table of rules the decisions apply
(``governance.review.rules``). Every form is a POST that carries the session's CSRF token and ends in a 303
redirect (post/redirect/get), so reloading a result page never repeats a decision. A refusal the domain raises
rolls the transaction back and comes back to this page as a message naming the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from governance.accounts.models import User
from governance.compliance.schemas import ObligationsView
from governance.kernel.errors import FieldProblem, Invalid, field_path
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.reading import get_release
from governance.review import decisions
from governance.review.evidence import RunEvidence, run_evidence
from governance.review.facts import facts_of, gather
from governance.review.rules import refusals
from governance.review.views import ReleaseView, release_view, release_view_of
from service.api.deps import DbSession
from service.web.changes import ChangeView, describe_changes
from service.web.routing import CsrfChecked, Web, WebRoute, WebUser, redirect, render_page
from service.web.sessions import WebSession

if TYPE_CHECKING:
    from governance.catalog.models import Product
    from governance.releases.models import Release

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FormText = Annotated[str, Form()]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ReleasePage:
    release: ReleaseView
    product: Product
    refusals: dict[str, str | None]
    """Each action, with the reason it is refused, or None where the user may take it."""
    allowed: frozenset[str]
    changes: list[ChangeView]
    evidence: list[RunEvidence]
    obligations: ObligationsView | None = None
    """Its obligations and the documents' lint findings (governance.compliance)."""


@dataclass(frozen=True)
class ProgressFragment:
    release: ReleaseView
    evidence: list[RunEvidence]


def present_release(session: UnitOfWork, user: User, release_id: int) -> ReleasePage:
    """One gathering of the release serves both its view and the rules that decide its forms."""
    record = gather(session, get_release(session, release_id))
    view = release_view_of(session, record)
    refused = refusals(facts_of(record), user)
    return ReleasePage(
        release=view,
        product=record.product,
        refusals={action.value: refusal.reason if refusal else None for action, refusal in refused.items()},
        allowed=frozenset(action.value for action, refusal in refused.items() if refusal is None),
        changes=describe_changes(session, record.product, view.changes),
        evidence=run_evidence(session, view),
        obligations=record.compliance.view if record.compliance else None,
    )


def present_progress(session: UnitOfWork, release_id: int) -> ProgressFragment:
    view = release_view(session, get_release(session, release_id))
    return ProgressFragment(release=view, evidence=run_evidence(session, view, with_cases=False))


@router.get("/releases/{release_id}")
def release_page(release_id: int, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """A release: why it is where it is, what changed, the evidence, the decisions and what I may do."""
    return render_page(request, "release.html", present_release(session, user, release_id))


@router.get("/releases/{release_id}/progress")
def release_progress(release_id: int, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """The run progress fragment htmx polls while a release is testing; once it is not, the page reloads."""
    fragment = present_progress(session, release_id)
    response = render_page(request, "_progress.html", fragment)
    if fragment.release.state != "testing":
        response.headers["HX-Refresh"] = "true"
    return response


# --- the forms ------------------------------------------------------------------------------------------------


def _parse(model: type[M], **fields: str | None) -> M:
    """Build the domain's request model; its validation message becomes the refusal the user reads."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = [
            FieldProblem(field=field_path(error["loc"]) or "form", reason=error["msg"]) for error in exc.errors()
        ]
        detail = "; ".join(f"{p.field}: {p.reason.removeprefix('Value error, ')}" for p in problems)
        raise Invalid(detail, problems=problems) from exc


def _done(web: WebSession, release: Release, text: str) -> RedirectResponse:
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
    """Take an approved release live."""
    release = decisions.go_live(session, user, release_id)
    return _done(web, release, f"Release {release.number} is live.")


@router.post("/releases/{release_id}/rerun", dependencies=[CsrfChecked])
def rerun(release_id: int, session: DbSession, user: WebUser, web: Web) -> RedirectResponse:
    """Run every suite of the release again."""
    runs = decisions.rerun_release(session, user, release_id)
    release = get_release(session, release_id)
    return _done(web, release, f"Re-running {len(runs)} suite(s) of release {release.number}.")
