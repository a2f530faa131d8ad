"""A component's history: its versions, and the diff between two of them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.catalog import repository as components_repo
from governance.catalog.components import get_version
from governance.catalog.content import unified_diff
from governance.catalog.models import Component, ComponentKind, ComponentVersion
from governance.catalog.schemas import DiffView
from governance.kernel.errors import Invalid
from governance.kernel.pagination import Page


def diff_view(session: Session, component: Component, from_version: int, to_version: int) -> DiffView:
    return DiffView(
        kind=component.kind,
        name=component.name,
        from_version=from_version,
        to_version=to_version,
        diff=diff_versions(session, component, from_version, to_version),
    )


def every_version(session: Session, component: Component) -> list[ComponentVersion]:
    """Every version of a component, oldest first."""
    return components_repo.all_versions(session, component.id)


def list_versions(session: Session, component: Component, *, after: int, limit: int) -> Page[ComponentVersion]:
    return components_repo.versions_page(session, component.id, after=after, limit=limit)


def diff_versions(session: Session, component: Component, from_number: int, to_number: int) -> str:
    if from_number < 1:
        raise Invalid("must be a version number, 1 or more", field="from")
    if to_number < 1:
        raise Invalid("must be a version number, 1 or more", field="to")
    old = get_version(session, component, from_number)
    new = get_version(session, component, to_number)
    return unified_diff(
        ComponentKind(component.kind), component.name, (old.number, old.content), (new.number, new.content)
    )
