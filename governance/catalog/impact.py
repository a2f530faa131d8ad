"""Impact analysis: which products depend on a document or process, directly or through a process.

The walk runs in the database (``repository.impact_rows``), so its cost grows with the number of affected
products, not with the catalogue; this module turns what it finds into paths a person can read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from governance.catalog import repository as components_repo
from governance.catalog.components import find_shared
from governance.catalog.models import Component, ComponentKind


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
    target = f"{component.kind}:{component.name}"
    found: dict[int, ImpactedProduct] = {}
    paths: dict[int, list[list[str]]] = defaultdict(list)
    for product_id, slug, via_name, via_kind in components_repo.impact_rows(session, component):
        found.setdefault(product_id, ImpactedProduct(product_id=product_id, slug=slug))
        middle = [f"{via_kind}:{via_name}"] if via_name is not None else []
        path = [slug, *middle, target]
        if path not in paths[product_id]:
            paths[product_id].append(path)
    for product_id, item in found.items():
        item.paths = paths[product_id]
    return list(found.values())


def impacted_by_kind(session: Session, kind: ComponentKind, slug: str) -> tuple[Component, list[ImpactedProduct]]:
    """A document or process by slug, and every product that depends on it (``NotFound`` if there is none)."""
    component = find_shared(session, kind, slug)
    return component, impacted_products(session, component)
