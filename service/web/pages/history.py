"""A component's history page: every version, where each is live, and any two versions side by side.

One page for the four kinds: a product's prompts and suites (``/products/{slug}/prompts/{name}``,
``.../suites/{name}``) and the shared documents and processes (``/documents/{slug}``, ``/processes/{slug}``).
The comparison is a GET form (``?a=&b=``): the page works without JavaScript, and a diff has a link of its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from governance.catalog.components import find_owned, find_shared
from governance.catalog.content import content_as_text
from governance.catalog.history import every_version
from governance.catalog.models import Component, ComponentKind, ComponentVersion
from governance.catalog.products import get_product
from governance.kernel.errors import Invalid
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.reading import LiveUse, live_uses
from service.api.deps import DbSession
from service.web.routing import WebRoute, WebUser, render_page
from service.web.sidebyside import SideBySide, fold, side_by_side

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def history_url(kind: str, name: str, product: str | None = None) -> str:
    """Where a component's history page is: owned kinds live under their product."""
    if kind in (ComponentKind.prompt.value, ComponentKind.suite.value):
        return f"/products/{product}/{kind}s/{name}"
    return f"/{'processes' if kind == ComponentKind.process.value else 'documents'}/{name}"


@dataclass(frozen=True)
class VersionRow:
    number: int
    author: str
    """The author's display name (their user name when they have none)."""
    author_name: str
    created_at: datetime
    message: str
    sha256: str
    live: list[LiveUse]
    """The products whose live release holds this version."""


@dataclass(frozen=True)
class Comparison:
    a: int
    b: int
    diff: SideBySide
    whole: bool
    """Both texts in full; otherwise long runs of unchanged lines are folded."""


@dataclass(frozen=True)
class HistoryPage:
    kind: str
    name: str
    product: str | None
    """The owning product of a prompt or suite."""
    url: str
    api_diff: str
    """The API's unified diff of the same two versions (the page's diff is the same change, side by side)."""
    versions: list[VersionRow]
    """Newest first."""
    comparison: Comparison | None


def _row(version: ComponentVersion, live: list[LiveUse]) -> VersionRow:
    return VersionRow(
        number=version.number,
        author=version.author.display_name or version.author.name,
        author_name=version.author.name,
        created_at=version.created_at,
        message=version.message,
        sha256=version.sha256,
        live=live,
    )


def _chosen(value: int | None, field: str, numbers: set[int]) -> int | None:
    if value is not None and value not in numbers:
        raise Invalid(f"there is no version {value} to compare", field=field)
    return value


def present_history(
    session: UnitOfWork, component: Component, product: str | None, a: int | None, b: int | None, *, whole: bool = False
) -> HistoryPage:
    versions = every_version(session, component)
    by_number = {version.number: version for version in versions}
    live: dict[int, list[LiveUse]] = defaultdict(list)
    for use in live_uses(session, component):
        live[use.version].append(use)
    a, b = _chosen(a, "a", set(by_number)), _chosen(b, "b", set(by_number))
    if a is None and b is None and len(versions) >= 2:
        # Unasked, the page shows the newest change: what a reader of a history page usually came for.
        a, b = versions[-2].number, versions[-1].number
    elif a is not None and b is None:
        b = versions[-1].number  # one version named: against the head
    elif b is not None and a is None:
        a = max((n for n in by_number if n < b), default=b)  # against the version before it
    comparison = None
    if a is not None and b is not None:
        kind = ComponentKind(component.kind)
        old, new = (content_as_text(kind, by_number[n].content) for n in (a, b))
        diff = side_by_side(old, new)
        comparison = Comparison(a=a, b=b, diff=diff if whole else fold(diff), whole=whole)
    url = history_url(component.kind, component.name, product)
    return HistoryPage(
        kind=component.kind,
        name=component.name,
        product=product,
        url=url,
        api_diff=f"/api/v1{url}/diff?from={a}&to={b}" if comparison else "",
        versions=[_row(version, live.get(version.number, [])) for version in reversed(versions)],
        comparison=comparison,
    )


def _owned(session: UnitOfWork, kind: ComponentKind, slug: str, name: str) -> Component:
    return find_owned(session, get_product(session, slug), kind, name)


@dataclass(frozen=True)
class Pick:
    """The two versions a history page compares (``?a=&b=``; the newest change when unasked), and whether whole."""

    a: int | None = None
    b: int | None = None
    whole: bool = False


Picked = Annotated[Pick, Depends()]


def _history_page(
    request: Request, session: UnitOfWork, component: Component, product: str | None, pick: Pick
) -> HTMLResponse:
    page = present_history(session, component, product, pick.a, pick.b, whole=pick.whole)
    return render_page(request, "history.html", page)


@router.get("/products/{slug}/prompts/{name}")
def prompt_history(
    slug: str,
    name: str,
    request: Request,
    session: DbSession,
    user: WebUser,
    pick: Picked,
) -> HTMLResponse:
    """A prompt's versions, where each is live, and two of them side by side."""
    component = _owned(session, ComponentKind.prompt, slug, name)
    return render_page(
        request, "history.html", present_history(session, component, slug, pick.a, pick.b, whole=pick.whole)
    )


@router.get("/products/{slug}/suites/{name}")
def suite_history(
    slug: str,
    name: str,
    request: Request,
    session: DbSession,
    user: WebUser,
    pick: Picked,
) -> HTMLResponse:
    """An eval suite's versions, where each is live, and two of them side by side."""
    component = _owned(session, ComponentKind.suite, slug, name)
    return render_page(
        request, "history.html", present_history(session, component, slug, pick.a, pick.b, whole=pick.whole)
    )


@router.get("/documents/{slug}")
def document_history(
    slug: str,
    request: Request,
    session: DbSession,
    user: WebUser,
    pick: Picked,
) -> HTMLResponse:
    """A document's versions, the products each is live in, and two of them side by side."""
    component = find_shared(session, ComponentKind.document, slug)
    return render_page(
        request, "history.html", present_history(session, component, None, pick.a, pick.b, whole=pick.whole)
    )


@router.get("/processes/{slug}")
def process_history(
    slug: str,
    request: Request,
    session: DbSession,
    user: WebUser,
    pick: Picked,
) -> HTMLResponse:
    """A process's versions, the products each is live in, and two of them side by side."""
    component = find_shared(session, ComponentKind.process, slug)
    return render_page(
        request, "history.html", present_history(session, component, None, pick.a, pick.b, whole=pick.whole)
    )
