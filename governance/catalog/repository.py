"""Every query of the catalog: products, components, versions and links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, cast, delete, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from governance.accounts.models import User
from governance.catalog.models import Component, ComponentKind, ComponentVersion, ProcessDocument, Product, ProductLink
from governance.kernel.errors import NotFound
from governance.kernel.pagination import Page
from governance.kernel.repository import keyset_page

# Products per query when reading suite specs: well under every database's limit on bound parameters.
_QUERY_BATCH = 1000

HeadEntry = tuple[str, str, int, int, str]
"""A prompt's or suite's head: (kind, name, product id, version number, sha256)."""

LinkedHeadEntry = tuple[int, str, str, int, str, int]
"""A document's or process's head: (component id, kind, name, version number, sha256, linking product or process id)."""


# Built once: every product read runs it, and building a statement costs more than running it.
_PRODUCT_BY_SLUG = select(Product).where(Product.slug == bindparam("slug"))


def get_by_slug(session: Session, slug: str, *, for_update: bool = False) -> Product | None:
    if not for_update:
        return session.scalar(_PRODUCT_BY_SLUG, {"slug": slug})
    return session.scalar(select(Product).where(Product.slug == slug).with_for_update(of=Product))


def product_by_id(session: Session, product_id: int) -> Product | None:
    return session.get(Product, product_id)


def get_product_by_id(session: Session, product_id: int) -> Product:
    product = product_by_id(session, product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def products_by_ids(session: Session, product_ids: Sequence[int]) -> list[Product]:
    """The products with these ids, in id order."""
    if not product_ids:
        return []
    return list(session.scalars(select(Product).where(Product.id.in_(product_ids)).order_by(Product.id)))


def lock_products(session: Session, product_ids: Sequence[int]) -> None:
    """Row-lock products in id order, so publishes touching overlapping products never deadlock (PostgreSQL).

    SQLite needs no row lock: Steward's transactions there start with BEGIN IMMEDIATE, one writer at a time.
    """
    if product_ids and session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Product.id).where(Product.id.in_(product_ids)).order_by(Product.id).with_for_update()
        ).all()


def products_page(
    session: Session, *, after: int, limit: int, owner: str | None = None, risk_tier: str | None = None
) -> Page[Product]:
    query = select(Product)
    if owner is not None:
        query = query.join(User, Product.owner_id == User.id).where(User.name == owner)
    if risk_tier is not None:
        query = query.where(Product.risk_tier == risk_tier)
    return keyset_page(session, query, Product.id, after=after, limit=limit)


@dataclass(frozen=True)
class ProductIndexRow:
    """What a list of many products shows of each: read as plain columns, without loading the products."""

    id: int
    slug: str
    name: str
    risk_tier: str
    owner_id: int
    owner_name: str


def product_index(session: Session, search: str | None = None) -> list[ProductIndexRow]:
    """Every product (or those whose name, slug or owner contains ``search``, any case), in id order."""
    query = select(Product.id, Product.slug, Product.name, Product.risk_tier, Product.owner_id, User.name).join(
        User, Product.owner_id == User.id
    )
    if search:
        needle = search.lower()
        query = query.where(
            or_(
                func.lower(Product.name).contains(needle, autoescape=True),
                func.lower(Product.slug).contains(needle, autoescape=True),
                func.lower(User.name).contains(needle, autoescape=True),
            )
        )
    return [ProductIndexRow(*row) for row in session.execute(query.order_by(Product.id))]


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


def shared_page(session: Session, kind: ComponentKind, *, after: int, limit: int) -> Page[Component]:
    query = select(Component).where(Component.product_id.is_(None), Component.kind == kind.value)
    return keyset_page(session, query, Component.id, after=after, limit=limit)


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


def all_versions(session: Session, component_id: int) -> list[ComponentVersion]:
    """Every version of a component, oldest first, in one query (its history page lists them all)."""
    query = select(ComponentVersion).where(ComponentVersion.component_id == component_id)
    return list(session.scalars(query.order_by(ComponentVersion.number)))


def product_names(session: Session, slugs: Iterable[str]) -> dict[str, str]:
    """Each existing product's name by slug, in one query."""
    slugs = sorted(set(slugs))
    if not slugs:
        return {}
    return {
        slug: name for slug, name in session.execute(select(Product.slug, Product.name).where(Product.slug.in_(slugs)))
    }


def versions_page(session: Session, component_id: int, *, after: int, limit: int) -> Page[ComponentVersion]:
    query = select(ComponentVersion).where(ComponentVersion.component_id == component_id)
    return keyset_page(session, query, ComponentVersion.number, after=after, limit=limit)


def version_of(
    session: Session, kind: ComponentKind, name: str, number: int, product_id: int | None
) -> ComponentVersion:
    """Version ``number`` of a product's prompt or suite (``product_id``) or of a shared component (None).

    Raises:
        sqlalchemy.exc.NoResultFound: there is no such version; manifests only name versions that exist.
    """
    query = (
        select(ComponentVersion)
        .join(Component, Component.id == ComponentVersion.component_id)
        .where(Component.kind == kind.value, Component.name == name, ComponentVersion.number == number)
    )
    query = query.where(
        Component.product_id == product_id if product_id is not None else Component.product_id.is_(None)
    )
    return session.scalars(query).one()


def suite_contents(
    session: Session, product_ids: Sequence[int], numbers: Sequence[int]
) -> list[tuple[int | None, str, int, dict[str, Any]]]:
    """(product id, suite name, version number, content) of the products' suites at any of ``numbers``.

    A superset of what a caller wants (every listed number of every suite), read in one query per
    ``_QUERY_BATCH`` products so the bound parameters stay well under every database's limit.
    """
    found: list[tuple[int | None, str, int, dict[str, Any]]] = []
    for start in range(0, len(product_ids), _QUERY_BATCH):
        query = (
            select(Component.product_id, Component.name, ComponentVersion.number, ComponentVersion.content)
            .join(ComponentVersion, ComponentVersion.component_id == Component.id)
            .where(
                Component.product_id.in_(product_ids[start : start + _QUERY_BATCH]),
                Component.kind == ComponentKind.suite.value,
                ComponentVersion.number.in_(numbers),
            )
        )
        found.extend(session.execute(query))
    return found


def linked_components(session: Session, product_id: int) -> list[Component]:
    query = (
        select(Component)
        .join(ProductLink, ProductLink.component_id == Component.id)
        .where(ProductLink.product_id == product_id)
        .order_by(Component.kind, Component.name)
    )
    return list(session.scalars(query))


def _head_entries() -> Select[int, str, str, int | None, int, str]:
    # Plain columns, not Component/ComponentVersion objects: a manifest needs names, numbers and hashes, and
    # loading every head as an object (with its content and joined owner and author) dominated a 1,000-product cut.
    return select(
        Component.id,
        Component.kind,
        Component.name,
        Component.product_id,
        ComponentVersion.number,
        ComponentVersion.sha256,
    ).join(
        ComponentVersion,
        (ComponentVersion.component_id == Component.id) & (ComponentVersion.number == Component.head_number),
    )


def owned_head_entries(session: Session, product_ids: Sequence[int]) -> list[HeadEntry]:
    """(kind, name, product id, number, sha256) of the head of every prompt and suite of the products."""
    rows = session.execute(_head_entries().where(Component.product_id.in_(product_ids)))
    # The filter leaves out shared components (product id None); the condition only tells the type checker so.
    return [(kind, name, pid, number, sha) for _id, kind, name, pid, number, sha in rows if pid is not None]


def linked_head_entries(session: Session, product_ids: Sequence[int]) -> list[LinkedHeadEntry]:
    """(component id, kind, name, number, sha256, product id) of the head of every document or process linked."""
    rows = session.execute(
        _head_entries()
        .add_columns(ProductLink.product_id)
        .join(ProductLink, ProductLink.component_id == Component.id)
        .where(ProductLink.product_id.in_(product_ids))
    ).all()
    return [(cid, kind, name, number, sha, product_id) for cid, kind, name, _owner, number, sha, product_id in rows]


def process_document_head_entries(session: Session, process_ids: Sequence[int]) -> list[LinkedHeadEntry]:
    """(document id, kind, name, number, sha256, process id) of the head of every document the processes name."""
    rows = session.execute(
        _head_entries()
        .add_columns(ProcessDocument.process_id)
        .join(ProcessDocument, ProcessDocument.document_id == Component.id)
        .where(ProcessDocument.process_id.in_(process_ids))
    ).all()
    return [(cid, kind, name, number, sha, process_id) for cid, kind, name, _owner, number, sha, process_id in rows]


def impact_rows(session: Session, component: Component) -> list[tuple[int, str, str | None, str | None]]:
    """(product id, product slug, via name, via kind) for each way a product reaches ``component``, by product id.

    The walk runs in the database as a recursive query over the link tables, using their indexes on the
    target side, so its cost grows with the number of affected products, not with the catalogue. ``via`` is
    the process a product reaches a document through, None for a direct link.
    """
    seed = select(
        literal(component.id, Integer).label("component_id"),
        literal(0, Integer).label("depth"),
        cast(literal(None), Integer).label("via_id"),
    ).cte("reach", recursive=True)
    # Upward edges: a process that references a reached document reaches it too.
    step = select(ProcessDocument.process_id, seed.c.depth + 1, ProcessDocument.process_id).join(
        seed, ProcessDocument.document_id == seed.c.component_id
    )
    reach = seed.union_all(step.where(seed.c.depth < 2))
    via = aliased(Component)
    query = (
        select(Product.id, Product.slug, cast(via.name, String), via.kind)
        .join(ProductLink, ProductLink.product_id == Product.id)
        .join(reach, ProductLink.component_id == reach.c.component_id)
        .outerjoin(via, via.id == reach.c.via_id)
        .order_by(Product.id)
    )
    return list(session.execute(query))


def replace_product_links(session: Session, product_id: int, component_ids: Iterable[int]) -> None:
    session.execute(delete(ProductLink).where(ProductLink.product_id == product_id))
    session.add_all(ProductLink(product_id=product_id, component_id=cid) for cid in sorted(set(component_ids)))


def replace_process_documents(session: Session, process_id: int, document_ids: Iterable[int]) -> None:
    session.execute(delete(ProcessDocument).where(ProcessDocument.process_id == process_id))
    session.add_all(ProcessDocument(process_id=process_id, document_id=did) for did in sorted(set(document_ids)))


@dataclass(frozen=True)
class ComponentHead:
    """A component of a product's page, owned or linked, with what the page shows of its head version."""

    component: Component
    linked: bool
    number: int | None
    sha256: str | None
    author: str | None
    created_at: datetime | None
    message: str | None
    title: str | None
    """A document head's title."""
    documents: list[str] | None
    """The documents a process head references."""


def _product_component_heads_query() -> Select[Any]:
    head = aliased(ComponentVersion)
    author = aliased(User)
    product_id = bindparam("product_id", type_=Integer)
    linked_ids = select(ProductLink.component_id).where(ProductLink.product_id == product_id)
    return (
        select(
            Component,
            head.number,
            head.sha256,
            author.name,
            head.created_at,
            head.message,
            head.content["title"].as_string(),
            head.content["documents"],
        )
        .outerjoin(head, (head.component_id == Component.id) & (head.number == Component.head_number))
        .outerjoin(author, author.id == head.author_id)
        .where(or_(Component.product_id == product_id, Component.id.in_(linked_ids)))
        .order_by(Component.kind, Component.name)
    )


# Built once: a product page reads it on every view, and building and keying this statement cost more than running it.
_PRODUCT_COMPONENT_HEADS = _product_component_heads_query()


def product_component_heads(session: Session, product_id: int) -> list[ComponentHead]:
    """The product's own components and the ones linked to it, each with its head's summary, in one query.

    Only the two fields the page shows are read out of a head's content (JSON), not the whole content.
    """
    rows = session.execute(_PRODUCT_COMPONENT_HEADS, {"product_id": product_id})
    return [
        ComponentHead(
            component=component,
            linked=component.product_id != product_id,
            number=number,
            sha256=sha256,
            author=author_name,
            created_at=created_at,
            message=message,
            title=title,
            documents=list(documents) if isinstance(documents, list) else None,
        )
        for component, number, sha256, author_name, created_at, message, title, documents in rows
    ]
