"""Every query of the catalog: products, components, versions and links."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.catalog.models import Component, ComponentKind, ComponentVersion, ProcessDocument, Product, ProductLink


def get_by_slug(session: Session, slug: str, *, for_update: bool = False) -> Product | None:
    query = select(Product).where(Product.slug == slug)
    if for_update:
        query = query.with_for_update(of=Product)
    return session.scalar(query)


def list_page(
    session: Session, *, after_id: int, limit: int, owner: str | None = None, risk_tier: str | None = None
) -> list[Product]:
    query = select(Product).where(Product.id > after_id)
    if owner is not None:
        query = query.join(User, Product.owner_id == User.id).where(User.name == owner)
    if risk_tier is not None:
        query = query.where(Product.risk_tier == risk_tier)
    return list(session.scalars(query.order_by(Product.id).limit(limit)))


def get_owned(session: Session, product_id: int, kind: ComponentKind, name: str) -> Component | None:
    query = select(Component).where(
        Component.product_id == product_id, Component.kind == kind.value, Component.name == name
    )
    return session.scalar(query)


def get_shared(session: Session, kind: ComponentKind, slug: str, *, for_update: bool = False) -> Component | None:
    query = select(Component).where(
        Component.product_id.is_(None), Component.kind == kind.value, Component.name == slug
    )
    if for_update:
        query = query.with_for_update(of=Component)
    return session.scalar(query)


def get_shared_many(session: Session, kind: ComponentKind, slugs: Iterable[str]) -> dict[str, Component]:
    slugs = list(slugs)
    if not slugs:
        return {}
    query = select(Component).where(
        Component.product_id.is_(None), Component.kind == kind.value, Component.name.in_(slugs)
    )
    return {component.name: component for component in session.scalars(query)}


def lock(session: Session, component: Component) -> Component:
    """Re-read a component row under a write lock so two publishes of it are serialised."""
    return session.scalars(
        select(Component)
        .where(Component.id == component.id)
        .with_for_update(of=Component)
        .execution_options(populate_existing=True)
    ).one()


def owned_by_product(session: Session, product_id: int) -> list[Component]:
    query = select(Component).where(Component.product_id == product_id).order_by(Component.kind, Component.name)
    return list(session.scalars(query))


def list_shared_page(session: Session, kind: ComponentKind, *, after_id: int, limit: int) -> list[Component]:
    query = (
        select(Component)
        .where(Component.product_id.is_(None), Component.kind == kind.value, Component.id > after_id)
        .order_by(Component.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def get_version(session: Session, component_id: int, number: int) -> ComponentVersion | None:
    query = select(ComponentVersion).where(
        ComponentVersion.component_id == component_id, ComponentVersion.number == number
    )
    return session.scalar(query)


def head_versions(session: Session, components: Iterable[Component]) -> dict[int, ComponentVersion]:
    """The head version of each component, in one query."""
    ids = [c.id for c in components if c.head_number > 0]
    if not ids:
        return {}
    query = (
        select(ComponentVersion)
        .join(Component, Component.id == ComponentVersion.component_id)
        .where(Component.id.in_(ids), ComponentVersion.number == Component.head_number)
    )
    return {version.component_id: version for version in session.scalars(query)}


def list_versions_page(session: Session, component_id: int, *, after_number: int, limit: int) -> list[ComponentVersion]:
    query = (
        select(ComponentVersion)
        .where(ComponentVersion.component_id == component_id, ComponentVersion.number > after_number)
        .order_by(ComponentVersion.number)
        .limit(limit)
    )
    return list(session.scalars(query))


def linked_components(session: Session, product_id: int) -> list[Component]:
    query = (
        select(Component)
        .join(ProductLink, ProductLink.component_id == Component.id)
        .where(ProductLink.product_id == product_id)
        .order_by(Component.kind, Component.name)
    )
    return list(session.scalars(query))


def replace_product_links(session: Session, product_id: int, component_ids: Iterable[int]) -> None:
    session.execute(delete(ProductLink).where(ProductLink.product_id == product_id))
    session.add_all(ProductLink(product_id=product_id, component_id=cid) for cid in sorted(set(component_ids)))


def replace_process_documents(session: Session, process_id: int, document_ids: Iterable[int]) -> None:
    session.execute(delete(ProcessDocument).where(ProcessDocument.process_id == process_id))
    session.add_all(ProcessDocument(process_id=process_id, document_id=did) for did in sorted(set(document_ids)))
