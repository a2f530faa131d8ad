"""What a release changes against the live one, component by component, as diff lines a template can mark up.

The diffs come from the domain (``governance.history.diff_versions``), the same text the API serves; this
module only splits them into typed lines so added and removed lines carry a visible sign and a label, not
colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.catalog.components import find_owned, find_shared, get_version
from governance.catalog.content import content_as_text
from governance.catalog.history import diff_versions
from governance.catalog.models import Component, ComponentKind, Product
from governance.kernel.unit_of_work import UnitOfWork

MAX_DIFF_LINES = 2000
COMPONENT_KINDS = {kind.value for kind in ComponentKind}


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx", "hunk" or "meta"
    text: str


@dataclass
class ChangeView:
    kind: str
    name: str
    change: str
    from_version: int | None
    to_version: int | None
    lines: list[DiffLine] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    truncated: bool = False
    before: Any = None
    after: Any = None

    @property
    def anchor(self) -> str:
        return f"change-{self.kind}-{self.name}"

    @property
    def is_component(self) -> bool:
        return self.kind in COMPONENT_KINDS


def parse_unified_diff(text: str) -> list[DiffLine]:
    lines: list[DiffLine] = []
    for raw in text.splitlines():
        if raw.startswith(("---", "+++")):
            lines.append(DiffLine("meta", raw))
        elif raw.startswith("@@"):
            lines.append(DiffLine("hunk", raw))
        elif raw.startswith("+"):
            lines.append(DiffLine("add", raw[1:]))
        elif raw.startswith("-"):
            lines.append(DiffLine("del", raw[1:]))
        elif raw.startswith("\\"):
            lines.append(DiffLine("meta", raw))
        else:
            lines.append(DiffLine("ctx", raw[1:] if raw.startswith(" ") else raw))
    return lines


def _component(session: UnitOfWork, product: Product, kind: ComponentKind, name: str) -> Component:
    if kind.owned_by_product:
        return find_owned(session, product, kind, name)
    return find_shared(session, kind, name)


def _finish(view: ChangeView, lines: list[DiffLine]) -> ChangeView:
    view.truncated = len(lines) > MAX_DIFF_LINES
    view.lines = lines[:MAX_DIFF_LINES]
    view.added = sum(1 for line in lines if line.kind == "add")
    view.removed = sum(1 for line in lines if line.kind == "del")
    return view


def describe_change(session: UnitOfWork, product: Product, change: dict[str, Any]) -> ChangeView:
    view = ChangeView(
        kind=change["kind"],
        name=change["name"],
        change=change["change"],
        from_version=change.get("from_version"),
        to_version=change.get("to_version"),
    )
    if not view.is_component:
        # Model settings and the set of links: show both sides whole, they are short.
        view.before, view.after = change.get("from"), change.get("to")
        return view
    kind = ComponentKind(view.kind)
    component = _component(session, product, kind, view.name)
    if view.change == "changed" and view.from_version is not None and view.to_version is not None:
        text = diff_versions(session, component, view.from_version, view.to_version)
        return _finish(view, parse_unified_diff(text))
    if view.change == "added" and view.to_version is not None:
        content = get_version(session, component, view.to_version).content
        lines = [DiffLine("meta", f"+++ {view.name}@v{view.to_version} (new)")]
        lines += [DiffLine("add", line) for line in content_as_text(kind, content).splitlines()]
        return _finish(view, lines)
    return view


def describe_changes(session: UnitOfWork, product: Product, changes: list[dict[str, Any]]) -> list[ChangeView]:
    """Changed components first (what a reviewer reads), then additions and removals, then settings."""
    views = [describe_change(session, product, change) for change in changes]
    order = {"changed": 0, "removed": 1, "added": 2}
    return sorted(views, key=lambda v: (not v.is_component, order.get(v.change, 3), v.kind, v.name))
