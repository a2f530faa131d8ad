"""After go-live: the live release a running product fetches, and the stop button."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response, status

from governance.serving import live, suspension
from governance.serving.schemas import LiveReleaseView, ResumeRequest, SuspendRequest, SuspensionView
from service.api.attestation import attest
from service.api.deps import CurrentUser, CurrentUserOrRuntime, DbSession

router = APIRouter(tags=["live"])

ProductSlug = Path(pattern=r"^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$", description="The product's slug.")


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


@router.get(
    "/products/{slug}/live",
    response_model=LiveReleaseView,
    summary="The product's live release, attested: what a running product serves.",
    responses={
        status.HTTP_304_NOT_MODIFIED: {"description": "The release named by If-None-Match is still the live one."},
        status.HTTP_423_LOCKED: {"description": "The product is suspended; the detail gives the reason."},
    },
)
def get_live(
    request: Request,
    response: Response,
    session: DbSession,
    actor: CurrentUserOrRuntime,
    if_none_match: Annotated[str | None, Header()] = None,
    slug: str = ProductSlug,
) -> Response | LiveReleaseView:
    """The product's live release, attested: what a running product serves."""
    pointer = live.live_pointer(session, actor, slug)
    etag = live.entity_tag(pointer)
    headers = {"ETag": etag, "Cache-Control": request.app.state.settings.live_cache_control}
    if _matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    view = live.live_release(session, pointer)
    view.attestation = attest(request.app.state.settings, live.attestation_payload(view))
    response.headers.update(headers)
    return view


@router.get("/products/{slug}/suspension", summary="Whether the product is suspended, and its last suspension.")
def get_suspension(session: DbSession, actor: CurrentUser, slug: str = ProductSlug) -> SuspensionView:
    """Whether the product is suspended, and its last suspension."""
    return suspension.suspension_view(session, actor, slug)


@router.post(
    "/products/{slug}/suspend",
    summary="Stop the product now, with a reason (owner, named overseer, reviewer or admin).",
)
def suspend(body: SuspendRequest, session: DbSession, actor: CurrentUser, slug: str = ProductSlug) -> SuspensionView:
    """Stop the product now, with a reason (owner, reviewer or admin)."""
    suspension.suspend(session, actor, slug, body)
    return suspension.suspension_view(session, actor, slug)


@router.post("/products/{slug}/resume", summary="Start a suspended product again (a second reviewer).")
def resume(body: ResumeRequest, session: DbSession, actor: CurrentUser, slug: str = ProductSlug) -> SuspensionView:
    """Start a suspended product again (a second reviewer)."""
    suspension.resume(session, actor, slug, body)
    return suspension.suspension_view(session, actor, slug)
