from __future__ import annotations

from collections.abc import Hashable

from fastapi import APIRouter, Path, Query, Request, Response, status

from governance.catalog import history, links, products
from governance.catalog.components import PublishResult, find_owned, get_version, publish_prompt, publish_suite
from governance.catalog.history import diff_view
from governance.catalog.models import Component, ComponentKind, RiskTier
from governance.catalog.schemas import (
    DiffView,
    LinksUpdate,
    LinksView,
    ProductCreate,
    ProductSummary,
    ProductUpdate,
    ProductView,
    PromptPublish,
    PublishView,
    SuitePublish,
    VersionSummary,
    VersionView,
    version_summary,
    version_view,
)
from governance.kernel.pagination import PageView
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.reading import LiveUse, live_uses
from governance.releases.status import product_summaries, product_view
from service.api.deps import FROM_VERSION, TO_VERSION, BearerCredentials, CurrentUser, DbSession, Paging
from service.api.view_cache import Built, read_view

router = APIRouter(tags=["products"])

ComponentNamePath = Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="Prompt or suite name.")


def publish_view(result: PublishResult, response: Response, product_slug: str | None) -> PublishView:
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    kind, name, number = result.component.kind, result.component.name, result.version.number
    detail = (
        f"published {kind} '{name}' version {number}"
        if result.created
        else f"{kind} '{name}' is unchanged: version {number} already has this content"
    )
    return PublishView(
        created=result.created,
        detail=detail,
        version=version_view(result.component, result.version, product_slug),
    )


@router.post("/products", status_code=status.HTTP_201_CREATED, summary="Register an AI HR product.")
def create_product(body: ProductCreate, session: DbSession, actor: CurrentUser) -> ProductView:
    """Register an AI HR product."""
    return product_view(session, products.create_product(session, actor, body))


@router.get("/products", summary="List products, optionally by owner or risk tier.")
def list_products(
    session: DbSession,
    actor: CurrentUser,
    page: Paging,
    owner: str | None = Query(None, description="Only products owned by this user."),
    risk_tier: RiskTier | None = Query(None, description="Only products of this risk tier."),
) -> PageView[ProductSummary]:
    """List products, optionally by owner or risk tier."""
    result = products.list_products(
        session,
        after=page.after,
        limit=page.limit,
        owner=owner,
        risk_tier=risk_tier.value if risk_tier else None,
    )
    return PageView(items=product_summaries(session, result.items), next=result.next)


@router.get(
    "/products/{slug}",
    response_model=ProductView,
    summary="A product with its components' head versions, links and status.",
)
async def get_product(request: Request, credentials: BearerCredentials, slug: str) -> Response:
    """A product with its components' head versions, links and status."""
    return await read_view(request, credentials, lambda _: ("product", slug), _product_body)


def _product_body(session: UnitOfWork, key: Hashable) -> Built:
    """The product's view as the API sends it: every fact in it changes only with an audit event."""
    assert isinstance(key, tuple)
    _, slug = key
    view = product_view(session, products.get_product(session, slug))
    return view.model_dump_json(by_alias=True).encode(), True


@router.patch("/products/{slug}", summary="Change a product's fields (owner or admin).")
def update_product(slug: str, body: ProductUpdate, session: DbSession, actor: CurrentUser) -> ProductView:
    """Change a product's fields (owner or admin)."""
    product, _changed = products.update_product(session, actor, slug, body)
    return product_view(session, product)


@router.get("/products/{slug}/links", summary="The documents and processes a product is linked to.")
def get_links(slug: str, session: DbSession, actor: CurrentUser) -> LinksView:
    """The documents and processes a product is linked to."""
    current = links.product_links(session, products.get_product(session, slug).id)
    return LinksView(documents=[c.name for c in current.documents], processes=[c.name for c in current.processes])


@router.put("/products/{slug}/links", summary="Replace the product's linked documents and processes.")
def put_links(slug: str, body: LinksUpdate, session: DbSession, actor: CurrentUser) -> LinksView:
    """Replace the product's linked documents and processes."""
    current = links.set_product_links(session, actor, slug, body)
    return LinksView(documents=[c.name for c in current.documents], processes=[c.name for c in current.processes])


@router.put(
    "/products/{slug}/prompts/{name}",
    summary="Publish a prompt: 201 with a new version, 200 when unchanged.",
    responses={201: {"model": PublishView, "description": "A new version was made."}},
)
def put_prompt(
    slug: str,
    body: PromptPublish,
    session: DbSession,
    actor: CurrentUser,
    response: Response,
    name: str = ComponentNamePath,
) -> PublishView:
    """Publish a prompt: 201 with a new version, 200 when unchanged."""
    return publish_view(publish_prompt(session, actor, slug, name, body), response, slug)


@router.put(
    "/products/{slug}/suites/{name}",
    summary="Publish an eval suite: 201 with a new version, 200 when unchanged.",
    responses={201: {"model": PublishView, "description": "A new version was made."}},
)
def put_suite(
    slug: str,
    body: SuitePublish,
    session: DbSession,
    actor: CurrentUser,
    response: Response,
    name: str = ComponentNamePath,
) -> PublishView:
    """Publish an eval suite: 201 with a new version, 200 when unchanged."""
    return publish_view(publish_suite(session, actor, slug, name, body), response, slug)


def _add_owned_history(kind: ComponentKind, plural: str) -> None:
    base = f"/products/{{slug}}/{plural}/{{name}}"

    def component(session: UnitOfWork, slug: str, name: str) -> Component:
        return find_owned(session, products.get_product(session, slug), kind, name)

    @router.get(base, summary=f"The head version of a {kind.value}, with its content.", name=f"get_{kind.value}")
    def get_head(slug: str, name: str, session: DbSession, actor: CurrentUser) -> VersionView:
        c = component(session, slug, name)
        return version_view(c, get_version(session, c, c.head_number), slug)

    @router.get(
        f"{base}/versions",
        summary=f"A {kind.value}'s versions, oldest first.",
        name=f"list_{kind.value}_versions",
    )
    def list_versions(
        slug: str, name: str, session: DbSession, actor: CurrentUser, page: Paging
    ) -> PageView[VersionSummary]:
        result = history.list_versions(session, component(session, slug, name), after=page.after, limit=page.limit)
        return PageView(items=[version_summary(v) for v in result.items], next=result.next)

    @router.get(
        f"{base}/versions/{{number}}",
        summary=f"One version of a {kind.value}, with its content.",
        name=f"get_{kind.value}_version",
    )
    def get_one(slug: str, name: str, number: int, session: DbSession, actor: CurrentUser) -> VersionView:
        c = component(session, slug, name)
        return version_view(c, get_version(session, c, number), slug)

    @router.get(
        f"{base}/diff",
        summary=f"Unified diff between two versions of a {kind.value}.",
        name=f"diff_{kind.value}",
        response_model_by_alias=True,
    )
    def diff(
        slug: str,
        name: str,
        session: DbSession,
        actor: CurrentUser,
        from_: int = FROM_VERSION,
        to: int = TO_VERSION,
    ) -> DiffView:
        return diff_view(session, component(session, slug, name), from_, to)

    @router.get(
        f"{base}/live",
        summary=f"The version of a {kind.value} the product's live release holds (an empty list before one).",
        name=f"live_{kind.value}_version",
    )
    def live(slug: str, name: str, session: DbSession, actor: CurrentUser) -> list[LiveUse]:
        return live_uses(session, component(session, slug, name))


_add_owned_history(ComponentKind.prompt, "prompts")
_add_owned_history(ComponentKind.suite, "suites")
