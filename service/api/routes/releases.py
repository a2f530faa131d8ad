"""Releases, runs, decisions, impact and policies: the change-governance loop over HTTP."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from evals import CaseResult
from governance.catalog import impact
from governance.catalog.models import ComponentKind, RiskTier
from governance.kernel.errors import Invalid, NotFound
from governance.kernel.pagination import PageView
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases import cutting as releases
from governance.releases import policies, reading
from governance.releases.models import ReleaseState
from governance.releases.policies import PolicyUpdate, policy_snapshot
from governance.review import decisions
from governance.review.repository import recorded_counts
from governance.review.views import (
    ReleaseSummary,
    ReleaseView,
    RunSummaryView,
    release_summary,
    release_view,
    run_summary,
)
from governance.runs import reading as runs
from governance.runs.models import FINISHED_RUN_STATES
from service.api.deps import BearerCredentials, CurrentUser, DbSession, Paging
from service.api.view_cache import Built, read_view

router = APIRouter(tags=["releases"])

ReleaseNumber = Annotated[int, Path(ge=1, description="The release's number within its product (release 6).")]
ReleaseId = Annotated[int, Path(description="The release's global id (older clients; people quote the number).")]


class CutRequest(BaseModel):
    reason: str = Field(default="", max_length=2000, description="Why a release is cut by hand.")


class ImpactPath(BaseModel):
    product: str
    paths: list[list[str]] = Field(description="Each path from the product to the component.")


class ImpactView(BaseModel):
    kind: str
    name: str
    head_version: int
    products: list[ImpactPath]


class RunView(RunSummaryView):
    cases: list[CaseResult] = Field(description="Case results, one page.")
    next: str | None = Field(description="Cursor of the next page of case results.")


@router.get(
    "/impact",
    summary="Products a document or process change would touch, with the paths.",
    responses={404: {"description": "No document or process has that slug."}},
)
def get_impact(
    session: DbSession,
    actor: CurrentUser,
    document: str | None = Query(None, description="Document slug."),
    process: str | None = Query(None, description="Process slug."),
) -> ImpactView:
    """Products a document or process change would touch, with the paths."""
    if (document is None) == (process is None):
        raise Invalid("give exactly one of document or process", field="document")
    kind, slug = (ComponentKind.document, document) if document is not None else (ComponentKind.process, process)
    assert slug is not None  # exactly one of the two was given
    try:
        component, found = impact.impacted_by_kind(session, kind, slug)
    except NotFound as missing:
        # The slug came in the parameter named after its kind, so that is the field to blame.
        raise NotFound(missing.detail, field=kind.value) from missing
    return ImpactView(
        kind=kind.value,
        name=slug,
        head_version=component.head_number,
        products=[ImpactPath(product=item.slug, paths=item.paths) for item in found],
    )


@router.post(
    "/products/{slug}/releases",
    status_code=status.HTTP_201_CREATED,
    summary="Cut a release of the current manifest by hand (owner or admin).",
)
def cut_release(slug: str, body: CutRequest, session: DbSession, actor: CurrentUser) -> ReleaseView:
    """Cut a release of the current manifest by hand (owner or admin)."""
    return release_view(session, releases.cut_release_by_hand(session, actor, slug, body.reason))


@router.get("/products/{slug}/releases", summary="A product's releases, newest first.")
def list_releases(slug: str, session: DbSession, actor: CurrentUser, page: Paging) -> PageView[ReleaseSummary]:
    """A product's releases, newest first."""
    product, result = reading.list_releases(session, slug, before=page.after, limit=page.limit)
    return PageView(items=[release_summary(r, product.slug) for r in result.items], next=result.next)


@router.get(
    "/releases/{release_id}",
    response_model=ReleaseView,
    summary="A release: state and why, manifest, changes, runs and decisions.",
)
async def get_release(request: Request, credentials: BearerCredentials, release_id: ReleaseId) -> Response:
    """A release: state and why, manifest, changes, runs and decisions."""
    return await read_view(request, credentials, lambda _: ("release", release_id), _release_body)


def _release_body(session: UnitOfWork, key: Hashable) -> Built:
    """The release's view as the API sends it; remembered once nothing in it moves without an audit event."""
    assert isinstance(key, tuple)
    _, release_id = key
    view = release_view(session, reading.get_release(session, release_id))
    settled = view.state != ReleaseState.testing and all(run.state in FINISHED_RUN_STATES for run in view.runs)
    return view.model_dump_json(by_alias=True).encode(), settled


@router.post("/releases/{release_id}/signoff", summary="The owner signs off (a failed release needs a waiver).")
def sign_off(release_id: int, body: decisions.SignOffRequest, session: DbSession, actor: CurrentUser) -> ReleaseView:
    """The owner signs off (a failed release needs a waiver)."""
    return release_view(session, decisions.sign_off(session, actor, release_id, body))


@router.post("/releases/{release_id}/approve", summary="An independent reviewer approves a signed-off release.")
def approve(release_id: int, body: decisions.ApproveRequest, session: DbSession, actor: CurrentUser) -> ReleaseView:
    """An independent reviewer approves a signed-off release."""
    return release_view(session, decisions.approve(session, actor, release_id, body))


@router.post("/releases/{release_id}/reject", summary="An independent reviewer rejects a release, with a reason.")
def reject(release_id: int, body: decisions.RejectRequest, session: DbSession, actor: CurrentUser) -> ReleaseView:
    """An independent reviewer rejects a release, with a reason."""
    return release_view(session, decisions.reject(session, actor, release_id, body))


@router.post(
    "/releases/{release_id}/request-changes",
    summary="An independent reviewer sends a release back to its owner for a fix; it stays open.",
)
def request_changes(
    release_id: int, body: decisions.ChangesRequest, session: DbSession, actor: CurrentUser
) -> ReleaseView:
    """An independent reviewer sends a release back to its owner for a fix; it stays open."""
    return release_view(session, decisions.request_changes(session, actor, release_id, body))


@router.post("/releases/{release_id}/go-live", summary="Take an approved release live (owner or admin).")
def go_live(release_id: int, session: DbSession, actor: CurrentUser) -> ReleaseView:
    """Take an approved release live (owner or admin)."""
    return release_view(session, decisions.go_live(session, actor, release_id))


@router.get("/runs/{run_id}", summary="A run with its summary and a page of case results.")
def get_run(run_id: int, session: DbSession, actor: CurrentUser, page: Paging) -> RunView:
    """A run with its summary and a page of case results."""
    run = runs.get_run(session, run_id)
    result = runs.list_case_results(session, run, after=page.after, limit=page.limit)
    counts = recorded_counts(session, [run.id])
    return RunView(
        **run_summary(run, counts.get(run.id, 0)).model_dump(),
        cases=[CaseResult.model_validate(row.result) for row in result.items],
        next=result.next,
    )


@router.post(
    "/runs/{run_id}/rerun",
    status_code=status.HTTP_201_CREATED,
    summary="Run a suite again on the same manifest (owner, admin or ci).",
)
def rerun(run_id: int, session: DbSession, actor: CurrentUser) -> RunSummaryView:
    """Run a suite again on the same manifest (owner, admin or ci)."""
    return run_summary(decisions.rerun(session, actor, run_id), 0)


@router.post(
    "/releases/{release_id}/rerun",
    status_code=status.HTTP_201_CREATED,
    summary="Run every suite of a release again (owner, admin or ci).",
)
def rerun_release(release_id: int, session: DbSession, actor: CurrentUser) -> list[RunSummaryView]:
    """Run every suite of a release again (owner, admin or ci)."""
    return [run_summary(run, 0) for run in decisions.rerun_release(session, actor, release_id)]


# --- the same, by the identifier people quote: the product and the release's number within it ---------------------


@router.get(
    "/products/{slug}/releases/{number}", response_model=ReleaseView, summary="A release by its product and number."
)
async def get_numbered(request: Request, credentials: BearerCredentials, slug: str, number: ReleaseNumber) -> Response:
    """A release by its product and number: state and why, manifest, changes, runs and decisions."""
    return await read_view(
        request, credentials, lambda session: ("release", reading.release_id_at(session, slug, number)), _release_body
    )


@router.post("/products/{slug}/releases/{number}/signoff", summary="Sign off a release by its product and number.")
def sign_off_numbered(
    slug: str, number: ReleaseNumber, body: decisions.SignOffRequest, session: DbSession, actor: CurrentUser
) -> ReleaseView:
    """The owner signs off (a failed release needs a waiver)."""
    return sign_off(reading.release_id_at(session, slug, number), body, session, actor)


@router.post("/products/{slug}/releases/{number}/approve", summary="Approve a release by its product and number.")
def approve_numbered(
    slug: str, number: ReleaseNumber, body: decisions.ApproveRequest, session: DbSession, actor: CurrentUser
) -> ReleaseView:
    """An independent reviewer approves a signed-off release."""
    return approve(reading.release_id_at(session, slug, number), body, session, actor)


@router.post("/products/{slug}/releases/{number}/reject", summary="Reject a release by its product and number.")
def reject_numbered(
    slug: str, number: ReleaseNumber, body: decisions.RejectRequest, session: DbSession, actor: CurrentUser
) -> ReleaseView:
    """An independent reviewer rejects a release, with a reason."""
    return reject(reading.release_id_at(session, slug, number), body, session, actor)


@router.post(
    "/products/{slug}/releases/{number}/request-changes",
    summary="Send a release back for changes, by its product and number.",
)
def request_changes_numbered(
    slug: str, number: ReleaseNumber, body: decisions.ChangesRequest, session: DbSession, actor: CurrentUser
) -> ReleaseView:
    """An independent reviewer sends a release back to its owner for a fix; it stays open."""
    return request_changes(reading.release_id_at(session, slug, number), body, session, actor)


@router.post("/products/{slug}/releases/{number}/go-live", summary="Take a release live by its product and number.")
def go_live_numbered(slug: str, number: ReleaseNumber, session: DbSession, actor: CurrentUser) -> ReleaseView:
    """Take an approved release live (owner or admin)."""
    return go_live(reading.release_id_at(session, slug, number), session, actor)


@router.post(
    "/products/{slug}/releases/{number}/rerun",
    status_code=status.HTTP_201_CREATED,
    summary="Run every suite of a release again, by its product and number.",
)
def rerun_numbered(slug: str, number: ReleaseNumber, session: DbSession, actor: CurrentUser) -> list[RunSummaryView]:
    """Run every suite of a release again (owner, admin or ci)."""
    return rerun_release(reading.release_id_at(session, slug, number), session, actor)


@router.get("/policies", summary="The policy of every risk tier.", response_model=list[dict[str, Any]])
def list_policies(session: DbSession, actor: CurrentUser) -> list[dict[str, Any]]:
    """The policy of every risk tier."""
    return [policy_snapshot(p) for p in policies.list_policies(session)]


@router.patch("/policies/{risk_tier}", summary="Change a risk tier's policy (admins).", response_model=dict[str, Any])
def update_policy(risk_tier: RiskTier, body: PolicyUpdate, session: DbSession, actor: CurrentUser) -> dict[str, Any]:
    """Change a risk tier's policy (admins)."""
    return policy_snapshot(policies.update_policy(session, actor, risk_tier, body))
