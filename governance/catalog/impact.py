"""Impact analysis: which products depend on a document or process, directly or through a process.

The walk runs in the database as a recursive query over the link tables, using their indexes on the
target side, so its cost grows with the number of affected products, not with the catalogue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Integer, String, cast, literal, select
from sqlalchemy.orm import Session, aliased

from governance.catalog.models import Component, ComponentKind, ProcessDocument, Product, ProductLink


@dataclass
class ImpactedProduct:
    product_id: int
    slug: str
    paths: list[list[str]] = field(default_factory=list)


def impacted_products(session: Session, component: Component) -> list[ImpactedProduct]:
    """Every product whose behaviour depends on ``component`` (a document or process), with each path to it.

    A path reads from the product to the component, e.g. ``["goal-coach", "process:goal-setting",
    "document:performance-management-policy"]``.
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
    target = f"{component.kind}:{component.name}"
    found: dict[int, ImpactedProduct] = {}
    paths: dict[int, list[list[str]]] = defaultdict(list)
    for product_id, slug, via_name, via_kind in session.execute(query):
        found.setdefault(product_id, ImpactedProduct(product_id=product_id, slug=slug))
        middle = [f"{via_kind}:{via_name}"] if via_name is not None else []
        path = [slug, *middle, target]
        if path not in paths[product_id]:
            paths[product_id].append(path)
    for product_id, item in found.items():
        item.paths = paths[product_id]
    return list(found.values())


def impacted_by_kind(session: Session, kind: ComponentKind, slug: str) -> tuple[Component, list[ImpactedProduct]]:
    from governance.catalog.components import find_shared

    component = find_shared(session, kind, slug)
    return component, impacted_products(session, component)
