"""Documents and processes: shared components with owners of their own."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from governance.catalog import history
from governance.catalog.components import find_shared, get_version, list_shared, publish_document, publish_process
from governance.catalog.history import diff_view
from governance.catalog.models import ComponentKind
from governance.catalog.schemas import (
    ComponentView,
    DiffView,
    DocumentPublish,
    ProcessPublish,
    PublishView,
    VersionSummary,
    VersionView,
    shared_component_view,
    version_summary,
    version_view,
)
from governance.kernel.pagination import PageView
from governance.releases.reading import LiveUse, live_uses
from service.api.deps import FROM_VERSION, TO_VERSION, CurrentUser, DbSession, Paging
from service.api.routes.products import publish_view

router = APIRouter(tags=["documents and processes"])

SlugPath = Path(
    pattern=r"^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$",
    description="3 to 64 characters: lowercase letters, digits and '-'.",
)


@router.put(
    "/documents/{slug}",
    summary="Publish a document: 201 with a new version, 200 when unchanged.",
    responses={201: {"model": PublishView, "description": "A new version was made."}},
)
def put_document(
    body: DocumentPublish, session: DbSession, actor: CurrentUser, response: Response, slug: str = SlugPath
) -> PublishView:
    """Publish a document: 201 with a new version, 200 when unchanged."""
    return publish_view(publish_document(session, actor, slug, body), response, None)


@router.put(
    "/processes/{slug}",
    summary="Publish a process: 201 with a new version, 200 when unchanged.",
    responses={201: {"model": PublishView, "description": "A new version was made."}},
)
def put_process(
    body: ProcessPublish, session: DbSession, actor: CurrentUser, response: Response, slug: str = SlugPath
) -> PublishView:
    """Publish a process: 201 with a new version, 200 when unchanged."""
    return publish_view(publish_process(session, actor, slug, body), response, None)


def _add_shared_routes(kind: ComponentKind, plural: str) -> None:
    base = f"/{plural}/{{slug}}"

    @router.get(f"/{plural}", summary=f"List {plural} with their owners and head versions.", name=f"list_{plural}")
    def list_all(session: DbSession, actor: CurrentUser, page: Paging) -> PageView[ComponentView]:
        result = list_shared(session, kind, after=page.after, limit=page.limit)
        return PageView(items=[shared_component_view(session, c) for c in result.items], next=result.next)

    @router.get(base, summary=f"The head version of a {kind.value}, with its content.", name=f"get_{kind.value}")
    def get_head(slug: str, session: DbSession, actor: CurrentUser) -> VersionView:
        c = find_shared(session, kind, slug)
        return version_view(c, get_version(session, c, c.head_number))

    @router.get(
        f"{base}/versions",
        summary=f"A {kind.value}'s versions, oldest first.",
        name=f"list_{kind.value}_versions",
    )
    def list_versions(slug: str, session: DbSession, actor: CurrentUser, page: Paging) -> PageView[VersionSummary]:
        result = history.list_versions(session, find_shared(session, kind, slug), after=page.after, limit=page.limit)
        return PageView(items=[version_summary(v) for v in result.items], next=result.next)

    @router.get(
        f"{base}/versions/{{number}}",
        summary=f"One version of a {kind.value}, with its content.",
        name=f"get_{kind.value}_version",
    )
    def get_one(slug: str, number: int, session: DbSession, actor: CurrentUser) -> VersionView:
        c = find_shared(session, kind, slug)
        return version_view(c, get_version(session, c, number))

    @router.get(
        f"{base}/diff",
        summary=f"Unified diff between two versions of a {kind.value}.",
        name=f"diff_{kind.value}",
    )
    def diff(
        slug: str, session: DbSession, actor: CurrentUser, from_: int = FROM_VERSION, to: int = TO_VERSION
    ) -> DiffView:
        return diff_view(session, find_shared(session, kind, slug), from_, to)

    @router.get(
        f"{base}/live",
        summary=f"Which version of a {kind.value} each product's live release holds.",
        name=f"live_{kind.value}_versions",
    )
    def live(slug: str, session: DbSession, actor: CurrentUser) -> list[LiveUse]:
        """Read from the live manifests: a document a product reads through a process is listed too."""
        return live_uses(session, find_shared(session, kind, slug))


_add_shared_routes(ComponentKind.document, "documents")
_add_shared_routes(ComponentKind.process, "processes")
