"""A release: why it is where it is, what changed, the evidence, the decisions, and the forms of those the user may
take now.

Which forms the page offers, and why not the others, comes from the table of rules the decisions apply
(``governance.review.rules``). Every form is a POST that carries the session's CSRF token and ends in a 303
redirect (post/redirect/get), so reloading a result page never repeats a decision. A refusal the domain raises
rolls the transaction back and comes back to this page as a message naming the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from governance.accounts.models import User
from governance.compliance.schemas import ObligationsView
from governance.kernel.errors import FieldProblem, field_path
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.reading import get_release
from governance.review import decisions
from governance.review.evidence import RunEvidence, run_evidence
from governance.review.facts import facts_of, gather
from governance.review.rules import refusals
from governance.review.views import (
    ChangeNote,
    ReleaseChecklist,
    ReleaseView,
    change_notes,
    release_checklists,
    release_view,
    release_view_of,
    superseded_by_id,
)
from service.api.deps import DbSession
from service.web.changes import ChangeView, describe_changes
from service.web.routing import (
    CsrfChecked,
    ReleaseAt,
    Web,
    WebRoute,
    WebUser,
    redirect,
    release_page_path,
    render_page,
)
from service.web.sessions import WebSession

if TYPE_CHECKING:
    from governance.catalog.models import Product
    from governance.releases.models import Release

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The value of the approval form's confirmation checkbox on a release that failed or was waived.
CONFIRMED = "approve-despite-failure"

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
    checklist: ReleaseChecklist
    notes: list[ChangeNote]
    """Every component version behind the release, with its author's message."""
    superseded_by_id: int | None
    superseded_by_number: int | None
    obligations: ObligationsView | None = None
    """Its obligations and the documents' lint findings (governance.compliance)."""
    typed: dict[str, str] = field(default_factory=dict)
    """What the user typed into a form the server refused, kept so nothing has to be typed again."""
    errors: dict[str, str] = field(default_factory=dict)
    """The refusal of each refused field, shown next to it."""

    @property
    def approval_needs_confirmation(self) -> bool:
        """Approving a release that failed or was waived asks for an explicit confirmation naming the waiver."""
        return self.checklist.failed


@dataclass(frozen=True)
class ProgressFragment:
    release: ReleaseView
    evidence: list[RunEvidence]


def present_release(
    session: UnitOfWork,
    user: User,
    release_id: int,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> ReleasePage:
    """One gathering of the release serves its view, its checklist and the rules that decide its forms."""
    record = gather(session, get_release(session, release_id))
    view = release_view_of(session, record)
    refused = refusals(facts_of(record), user)
    return ReleasePage(
        release=view,
        product=record.product,
        refusals={action.value: refusal.reason if refusal else None for action, refusal in refused.items()},
        allowed=frozenset(action.value for action, refusal in refused.items() if refusal is None),
        changes=describe_changes(session, record.product, view.changes),
        evidence=run_evidence(session, view, product_id=record.product.id),
        checklist=release_checklists(session, [record])[record.release.id],
        notes=change_notes(session, record),
        superseded_by_id=superseded_by_id(session, record),
        superseded_by_number=record.superseded_by,
        typed=typed or {},
        errors=errors or {},
        obligations=record.compliance.view if record.compliance else None,
    )


def present_progress(session: UnitOfWork, release_id: int) -> ProgressFragment:
    view = release_view(session, get_release(session, release_id))
    return ProgressFragment(release=view, evidence=run_evidence(session, view, with_cases=False))


@router.get("/products/{slug}/releases/{number}")
def release_page(slug: str, release_id: ReleaseAt, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """A release: why it is where it is, what changed, the evidence, the decisions and what I may do."""
    return render_page(request, "release.html", present_release(session, user, release_id))


@router.get("/products/{slug}/releases/{number}/progress")
def release_progress(
    slug: str, release_id: ReleaseAt, request: Request, session: DbSession, user: WebUser
) -> HTMLResponse:
    """The run progress fragment htmx polls while a release is testing; once it is not, the page reloads."""
    fragment = present_progress(session, release_id)
    response = render_page(request, "_progress.html", fragment)
    if fragment.release.state != "testing":
        response.headers["HX-Refresh"] = "true"
    return response


# --- the forms ------------------------------------------------------------------------------------------------


class FormRefused(Exception):
    """A decision form's fields do not fit: the page comes back with what was typed and each field's error."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors.items()))
        self.errors = errors


def _parse(model: type[M], **fields: str | None) -> M:
    """Build the domain's request model; its validation messages become the errors shown beside the fields."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = [
            FieldProblem(field=field_path(error["loc"]) or "form", reason=error["msg"]) for error in exc.errors()
        ]
        raise FormRefused({p.field: p.reason.removeprefix("Value error, ") for p in problems}) from exc


def _refused_form(
    request: Request,
    session: UnitOfWork,
    user: User,
    release_id: int,
    form: str,
    typed: dict[str, str],
    errors: dict[str, str],
) -> HTMLResponse:
    """The release page again, with what was typed kept and each error beside its field (422), nothing done."""
    page = present_release(session, user, release_id, typed={"form": form, **typed}, errors=errors)
    return render_page(request, "release.html", page, status_code=422)


def _done(web: WebSession, slug: str, release: Release, text: str) -> RedirectResponse:
    web.flash("ok", text)
    return redirect(release_page_path(slug, release.number))


@router.post("/products/{slug}/releases/{number}/signoff", dependencies=[CsrfChecked])
def sign_off(
    slug: str, release_id: ReleaseAt, request: Request, session: DbSession, user: WebUser, web: Web, note: FormText = ""
) -> Response:
    """The owner signs off a release whose runs passed."""
    try:
        data = _parse(decisions.SignOffRequest, note=note)
    except FormRefused as refused:
        return _refused_form(request, session, user, release_id, "signoff", {"note": note}, refused.errors)
    release = decisions.sign_off(session, user, release_id, data)
    return _done(web, slug, release, f"Signed off release {release.number}.")


@router.post("/products/{slug}/releases/{number}/waive", dependencies=[CsrfChecked])
def waive(
    slug: str,
    release_id: ReleaseAt,
    request: Request,
    session: DbSession,
    user: WebUser,
    web: Web,
    waiver: FormText = "",
    note: FormText = "",
) -> Response:
    """The owner signs off a failed release with a written waiver."""
    try:
        data = _parse(decisions.SignOffRequest, note=note, waiver=waiver)
    except FormRefused as refused:
        typed = {"waiver": waiver, "note": note}
        return _refused_form(request, session, user, release_id, "waive", typed, refused.errors)
    release = decisions.sign_off(session, user, release_id, data)
    return _done(web, slug, release, f"Signed off release {release.number} with a waiver.")


@router.post("/products/{slug}/releases/{number}/approve", dependencies=[CsrfChecked])
def approve(
    slug: str,
    release_id: ReleaseAt,
    request: Request,
    session: DbSession,
    user: WebUser,
    web: Web,
    note: FormText = "",
    confirm: FormText = "",
) -> Response:
    """An independent reviewer approves; a release that failed or was waived only with the confirmation field."""
    try:
        data = _parse(decisions.ApproveRequest, note=note)
    except FormRefused as refused:
        return _refused_form(request, session, user, release_id, "approve", {"note": note}, refused.errors)
    record = gather(session, get_release(session, release_id))
    if release_checklists(session, [record])[release_id].failed and confirm != CONFIRMED:
        errors = {"confirm": "this release failed its runs or was waived: confirm that you approve it anyway"}
        return _refused_form(request, session, user, release_id, "approve", {"note": note}, errors)
    release = decisions.approve(session, user, release_id, data)
    return _done(web, slug, release, f"Approved release {release.number}; it is now {release.state.replace('_', ' ')}.")


@router.post("/products/{slug}/releases/{number}/reject", dependencies=[CsrfChecked])
def reject(
    slug: str,
    release_id: ReleaseAt,
    request: Request,
    session: DbSession,
    user: WebUser,
    web: Web,
    reason: FormText = "",
) -> Response:
    """An independent reviewer rejects, with a reason."""
    try:
        data = _parse(decisions.RejectRequest, reason=reason)
    except FormRefused as refused:
        return _refused_form(request, session, user, release_id, "reject", {"reason": reason}, refused.errors)
    release = decisions.reject(session, user, release_id, data)
    return _done(web, slug, release, f"Rejected release {release.number}.")


@router.post("/products/{slug}/releases/{number}/request-changes", dependencies=[CsrfChecked])
def request_changes(
    slug: str,
    release_id: ReleaseAt,
    request: Request,
    session: DbSession,
    user: WebUser,
    web: Web,
    changes: FormText = "",
) -> Response:
    """An independent reviewer sends the release back to its owner for a fix; it stays open."""
    try:
        data = _parse(decisions.ChangesRequest, changes=changes)
    except FormRefused as refused:
        typed = {"changes": changes}
        return _refused_form(request, session, user, release_id, "request_changes", typed, refused.errors)
    release = decisions.request_changes(session, user, release_id, data)
    return _done(web, slug, release, f"Sent release {release.number} back to its owner for changes.")


@router.post("/products/{slug}/releases/{number}/go-live", dependencies=[CsrfChecked])
def go_live(slug: str, release_id: ReleaseAt, session: DbSession, user: WebUser, web: Web) -> RedirectResponse:
    """Take an approved release live."""
    release = decisions.go_live(session, user, release_id)
    return _done(web, slug, release, f"Release {release.number} is live.")


@router.post("/products/{slug}/releases/{number}/rerun", dependencies=[CsrfChecked])
def rerun(slug: str, release_id: ReleaseAt, session: DbSession, user: WebUser, web: Web) -> RedirectResponse:
    """Run every suite of the release again."""
    runs = decisions.rerun_release(session, user, release_id)
    release = get_release(session, release_id)
    return _done(web, slug, release, f"Re-running {len(runs)} suite(s) of release {release.number}.")


# --- the global id, as older links and bookmarks have it -----------------------------------------------------------


@router.api_route("/releases/{release_id}{rest:path}", methods=["GET", "POST"])
def by_global_id(release_id: int, rest: str, request: Request, session: DbSession, user: WebUser) -> Response:
    """An older link by the release's global id goes to the same page by product and number (a form posted to it is
    sent on with its method and fields kept: 307)."""
    record = gather(session, get_release(session, release_id))
    target = release_page_path(record.product.slug, record.release.number) + rest
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(target + query, status_code=301 if request.method == "GET" else 307)
