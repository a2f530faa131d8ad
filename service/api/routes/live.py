"""After go-live: the live release a running product fetches, and the stop button."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from governance.accounts.users import authenticate, hash_token
from governance.serving import live, suspension
from governance.serving.repository import live_pointer as live_pointer_row
from governance.serving.schemas import LiveReleaseView, ResumeRequest, SuspendRequest, SuspensionView
from service.api.attestation import attest
from service.api.deps import BearerCredentials, CurrentUser, DbSession, request_transaction
from service.api.view_cache import edge_memory

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
async def get_live(
    request: Request,
    credentials: BearerCredentials,
    if_none_match: Annotated[str | None, Header()] = None,
    slug: str = ProductSlug,
) -> Response:
    """The product's live release, attested: what a running product serves."""
    # Every running product revalidates this often. A 304 whose pointer and grant this server remembers is
    # answered here on the event loop; otherwise the whole request (authenticate, look up, answer) is one trip to
    # the thread pool, not one per dependency, and a 304 costs two queries.
    remembered = _remembered_not_modified(request, credentials, if_none_match, slug)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(_live_response, request, credentials, if_none_match, slug)


def _remembered_not_modified(
    request: Request, credentials: HTTPAuthorizationCredentials | None, if_none_match: str | None, slug: str
) -> Response | None:
    """A 304 from what this server remembers (a pointer that is live and not stopped, and the token's grant for
    the product, both younger than the cache's time), or None: then the full check decides."""
    if not if_none_match or credentials is None:
        return None
    memory = edge_memory(request)
    pointer = memory.live_pointers.peek(slug)
    if pointer is None or pointer.suspension is not None or pointer.release_id is None:
        return None
    etag = live.entity_tag(pointer)
    if not _matches(if_none_match, etag) or not memory.live_grants.allows(hash_token(credentials.credentials), slug):
        return None
    headers = {"ETag": etag, "Cache-Control": request.app.state.settings.live_cache_control}
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)


def _live_response(
    request: Request, credentials: HTTPAuthorizationCredentials | None, if_none_match: str | None, slug: str
) -> Response:
    settings = request.app.state.settings
    with request_transaction(request) as session:
        actor = authenticate(session, credentials.credentials if credentials else None, runtime=True)
        memory = edge_memory(request)
        remembered = memory.live_pointers.get(slug, lambda: live_pointer_row(session, slug))
        pointer = live.checked_pointer(actor, slug, remembered)
        if credentials is not None:
            memory.live_grants.remember(hash_token(credentials.credentials), slug)
        etag = live.entity_tag(pointer)
        headers = {"ETag": etag, "Cache-Control": settings.live_cache_control}
        if _matches(if_none_match, etag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        view = live.live_release(session, pointer)
    view.attestation = attest(settings, live.attestation_payload(view))
    return Response(view.model_dump_json(), media_type="application/json", headers=headers)


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
