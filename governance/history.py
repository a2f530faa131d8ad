"""Reading a component's history: its versions and the diff between two of them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.components import get_version
from governance.content import unified_diff
from governance.errors import Invalid
from governance.models import Component, ComponentKind, ComponentVersion
from governance.pagination import Page, page_of
from governance.repositories import components as components_repo


def list_versions(session: Session, component: Component, *, after: int, limit: int) -> Page[ComponentVersion]:
    rows = components_repo.list_versions_page(session, component.id, after_number=after, limit=limit + 1)
    return page_of(rows, limit, key=lambda version: version.number)


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
