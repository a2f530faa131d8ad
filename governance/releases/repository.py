"""Every query of releases and policies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from governance.catalog.models import Product
from governance.kernel.pagination import Page
from governance.kernel.repository import keyset_page
from governance.releases.models import OPEN_STATES, Policy, Release, ReleaseState


def release_by_id(session: Session, release_id: int, *, for_update: bool = False) -> Release | None:
    """A release; ``for_update`` row-locks it and refreshes it from the database (another writer may have moved it)."""
    if not for_update:
        return session.get(Release, release_id)
    query = select(Release).where(Release.id == release_id).with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


_RELEASE_ID_AT = (
    select(Release.id)
    .join(Product, Product.id == Release.product_id)
    .where(Product.slug == bindparam("slug"), Release.number == bindparam("number"))
)


def release_id_by_number(session: Session, slug: str, number: int) -> int | None:
    """The global id of the release ``number`` of product ``slug``; None if there is none (one indexed join)."""
    return session.scalar(_RELEASE_ID_AT, {"slug": slug, "number": number})


def releases_page(session: Session, product_id: int, *, before: int, limit: int) -> Page[Release]:
    """A product's releases, newest first, numbered below ``before`` (0: from the newest)."""
    query = select(Release).where(Release.product_id == product_id)
    return keyset_page(session, query, Release.number, after=before, limit=limit, newest_first=True)


def list_for_product(session: Session, product_id: int, *, before_number: int, limit: int) -> list[Release]:
    """Up to ``limit`` of a product's releases, newest first, numbered below ``before_number`` (0: from the newest)."""
    return releases_page(session, product_id, before=before_number, limit=limit).items


def latest_release(session: Session, product_id: int) -> Release | None:
    query = select(Release).where(Release.product_id == product_id).order_by(Release.number.desc()).limit(1)
    return session.scalar(query)


def lock_current_releases(session: Session, product_ids: Sequence[int]) -> list[Release]:
    """The open and live releases of the products, row-locked, by product and number."""
    states = [state.value for state in OPEN_STATES] + [ReleaseState.live.value]
    query = (
        select(Release)
        .where(Release.product_id.in_(product_ids), Release.state.in_(states))
        .order_by(Release.product_id, Release.number)
        .with_for_update()
    )
    return list(session.scalars(query))


def earliest_due_since_live(session: Session, product_ids: Sequence[int]) -> dict[int, datetime]:
    """Per product with a live release: the earliest revalidation due date of any release cut after it.

    Superseded and rejected releases count too: a change that was turned down still has to be revalidated by
    the date the first change since going live set.
    """
    live = aliased(Release)
    live_number = (
        select(func.max(live.number))
        .where(live.product_id == Release.product_id, live.state == ReleaseState.live.value)
        .scalar_subquery()
    )
    query = (
        select(Release.product_id, func.min(Release.revalidation_due_at))
        .where(
            Release.product_id.in_(product_ids),
            Release.revalidation_due_at.is_not(None),
            Release.number > live_number,
        )
        .group_by(Release.product_id)
    )
    return {product_id: due for product_id, due in session.execute(query).all() if due is not None}


def newest_numbers(session: Session, product_ids: Sequence[int]) -> dict[int, int]:
    """The highest release number of each product that has a release."""
    query = (
        select(Release.product_id, func.max(Release.number))
        .where(Release.product_id.in_(product_ids))
        .group_by(Release.product_id)
    )
    return dict(session.execute(query).all())


# Built once: every product read and list page runs it, and building a statement costs more than running it.
_STATUS_ROWS = (
    select(
        Release.product_id,
        Release.id,
        Release.state,
        Release.number,
        Release.revalidation_due_at,
        Release.state_changed_at,
    )
    .where(
        Release.product_id.in_(bindparam("product_ids", expanding=True)),
        Release.state != ReleaseState.superseded.value,
    )
    .order_by(Release.product_id, Release.number)
)


def status_rows(
    session: Session, product_ids: Sequence[int]
) -> list[tuple[int, int, str, int, datetime | None, datetime]]:
    """(product id, release id, state, number, revalidation due, state changed at) of every release not
    superseded, in number order."""
    rows = session.execute(_STATUS_ROWS, {"product_ids": list(product_ids)})
    return [
        (product_id, release_id, state, number, due, changed)
        for product_id, release_id, state, number, due, changed in rows
    ]


def policy_or_none(session: Session, risk_tier: str) -> Policy | None:
    return session.get(Policy, risk_tier)


def all_policies(session: Session) -> list[Policy]:
    return list(session.scalars(select(Policy)))


def live_releases(session: Session, product_id: int | None = None) -> list[tuple[Release, str]]:
    """Every live release (of one product, if given) with its product's slug, by slug."""
    query = select(Release, Product.slug).join(Product, Product.id == Release.product_id)
    query = query.where(Release.state == ReleaseState.live)
    if product_id is not None:
        query = query.where(Release.product_id == product_id)
    return [(release, slug) for release, slug in session.execute(query.order_by(Product.slug))]


def release_ids(session: Session, numbered: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The id of each (product slug, release number) that exists, in one query."""
    if not numbered:
        return {}
    slugs = sorted({slug for slug, _number in numbered})
    numbers = sorted({number for _slug, number in numbered})
    query = (
        select(Release.id, Product.slug, Release.number)
        .join(Product, Product.id == Release.product_id)
        .where(Product.slug.in_(slugs), Release.number.in_(numbers))
    )
    return {(slug, number): id_ for id_, slug, number in session.execute(query) if (slug, number) in numbered}
