"""Reading releases: one by id, a product's history page by page, and its newest."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.catalog.models import Product
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
