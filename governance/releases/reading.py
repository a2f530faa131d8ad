"""Reading releases: one by id or by its number within its product, a product's history page by page, its
newest, and which versions are live.

A release has two identifiers: the number within its product (``goal-coach`` release 6), which people quote and
the API, web app, CLI, webhooks and audit trail show, and a global id, which older links use and which is still
accepted everywhere.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from governance.catalog.models import Component, ComponentKind, Product
from governance.catalog.products import get_product
from governance.kernel.errors import NotFound
from governance.kernel.pagination import Page
from governance.releases import repository as releases_repo
from governance.releases.models import Release


def get_release(session: Session, release_id: int, *, for_update: bool = False) -> Release:
    """A release, or ``NotFound``; ``for_update`` row-locks it and reads its current state from the database."""
    release = releases_repo.release_by_id(session, release_id, for_update=for_update)
    if release is None:
        raise NotFound(f"no release with id {release_id}", field="id")
    return release


def release_href(product_slug: str, number: int) -> str:
    """Where the API serves a release, by the identifier people quote: the product and the release's number."""
    return f"/api/v1/products/{product_slug}/releases/{number}"


def release_id_at(session: Session, slug: str, number: int) -> int:
    """The global id of ``slug``'s release ``number``; ``NotFound`` names the product or the number missing."""
    release_id = releases_repo.release_id_by_number(session, slug, number)
    if release_id is None:
        get_product(session, slug)  # no such product: NotFound names the slug
        raise NotFound(f"product '{slug}' has no release {number}", field="number")
    return release_id


def list_releases(session: Session, slug: str, *, before: int, limit: int) -> tuple[Product, Page[Release]]:
    """A product's releases, newest first, numbered below ``before`` (0: from the newest).

    Args:
        session: The caller's session.
        slug: The product; ``NotFound`` if there is none.
        before: The release number the previous page ended at.
        limit: Releases per page.

    Returns:
        The product and one page of its releases.
    """
    product = get_product(session, slug)
    return product, releases_repo.releases_page(session, product.id, before=before, limit=limit)


def latest_release(session: Session, product: Product) -> Release | None:
    """The product's newest release, whatever its state; None before its first."""
    return releases_repo.latest_release(session, product.id)


class LiveUse(BaseModel):
    """A component version that the live release of a product is made of."""

    model_config = ConfigDict(frozen=True)

    product: str = Field(description="The product's slug.")
    release_id: int
    release_number: int
    version: int = Field(description="The component's version in that live release.")


def live_uses(session: Session, component: Component) -> list[LiveUse]:
    """Which version of ``component`` each product's live release holds, by product slug.

    Read from the live manifests themselves, not from today's links: a product that unlinked a document since
    going live still serves the version its live release was approved with. A document a product reads through
    a process is in its manifest too.
    """
    kind = ComponentKind(component.kind)
    section = "processes" if kind is ComponentKind.process else f"{kind.value}s"
    owner = component.product_id if kind.owned_by_product else None
    uses = []
    for release, slug in releases_repo.live_releases(session, owner):
        entry = (release.manifest.get(section) or {}).get(component.name)
        if entry is not None:
            uses.append(
                LiveUse(
                    product=slug, release_id=release.id, release_number=release.number, version=int(entry["version"])
                )
            )
    return uses
