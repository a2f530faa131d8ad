"""A product: owner, purpose, policy, components, dependency graph, releases and its audit timeline."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from governance.accounts.models import User
from governance.audit.reading import list_events
from governance.catalog.links import reached_through_processes
from governance.catalog.products import get_product
from governance.catalog.schemas import ComponentView, ProductView, VersionSummary
from governance.compliance.reading import classification_view, obligations_view
from governance.compliance.schemas import ClassificationView, ObligationsView
from governance.kernel.pagination import decode_cursor
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.policies import get_policy, policy_snapshot
from governance.releases.repository import list_for_product, live_releases
from governance.releases.status import product_view
from governance.review.views import ReleaseSummary, release_summary
from governance.runs.candidates import CandidateComparison, candidate_comparison
from governance.serving.schemas import SuspensionView
from governance.serving.suspension import suspension_view
from service.api.deps import DbSession
from service.web.graph import Graph, dependency_graph
from service.web.pages.history import history_url
from service.web.pages.production import Production, present_production
from service.web.routing import WebRoute, WebUser, render_page

if TYPE_CHECKING:
    from governance.audit.models import AuditEvent

router = APIRouter(route_class=WebRoute, include_in_schema=False)

RELEASES_SHOWN = 30
TIMELINE_EVENTS = 30
# The trail is read in chain order a page at a time; this many events per read.
TIMELINE_READ = 200


@dataclass(frozen=True)
class ComponentRow:
    """One row of the components table: what the product is made of, however it reaches it."""

    kind: str
    name: str
    head: VersionSummary | None
    owner: str
    via: str | None
    """The process a document is read through, when the product does not link it itself."""
    live_version: int | None
    """The version the live release holds; None when there is no live release or it lacks the component."""
    href: str


def component_rows(
    view: ProductView, reached: list[ComponentView], live_manifest: dict[str, Any] | None
) -> list[ComponentRow]:
    """Prompts, suites, processes, linked documents, then documents read only through a process."""
    via: dict[str, str] = {}
    for process in view.processes:
        for name in process.documents:
            via.setdefault(name, process.name)
    groups: list[tuple[str, list[ComponentView]]] = [
        ("prompts", list(view.prompts)),
        ("suites", list(view.suites)),
        ("processes", list(view.processes)),
        ("documents", [*view.documents, *reached]),
    ]
    direct = {document.name for document in view.documents}
    rows = []
    for section, components in groups:
        live_section = (live_manifest or {}).get(section) or {}
        for c in components:
            live = live_section.get(c.name)
            rows.append(
                ComponentRow(
                    kind=c.kind,
                    name=c.name,
                    head=c.head,
                    owner=c.owner or view.owner,
                    via=via.get(c.name) if section == "documents" and c.name not in direct else None,
                    live_version=int(live["version"]) if live else None,
                    href=history_url(c.kind, c.name, view.slug),
                )
            )
    return rows


@dataclass(frozen=True)
class ProductPage:
    product: ProductView
    policy: dict[str, Any]
    components: list[ComponentRow]
    """Every component, including the documents it reads only through a process."""
    graph: Graph
    releases: list[ReleaseSummary]
    """Newest first."""
    events: list[AuditEvent]
    """The product's latest events, newest first."""
    suspension: SuspensionView
    """The suspension in force (the stop button was pressed), or the last one lifted."""
    production: Production
    """KPIs from feedback, alerts, incidents and re-certifications."""
    classification: ClassificationView
    obligations: ObligationsView
    """The obligations of its classification as a checklist (governance.compliance)."""
    candidates: CandidateComparison | None
    """The live release's suites on candidate models, beside the live model's results."""


def newest_events(session: UnitOfWork, user: User, product: str, count: int) -> list[AuditEvent]:
    """The product's latest events; the trail is read in chain order, so keep only the tail."""
    tail: deque[AuditEvent] = deque(maxlen=count)
    after = 0
    while True:
        page = list_events(session, user, after=after, limit=TIMELINE_READ, product=product)
        tail.extend(page.items)
        if page.next is None:
            return list(reversed(tail))
        after = decode_cursor(page.next)


def present_product(session: UnitOfWork, user: User, slug: str) -> ProductPage:
    product = get_product(session, slug)
    view = product_view(session, product)
    releases = list_for_product(session, product.id, before_number=0, limit=RELEASES_SHOWN)
    reached = reached_through_processes(session, view)
    live = live_releases(session, product.id)
    return ProductPage(
        product=view,
        policy=policy_snapshot(get_policy(session, product.risk_tier)),
        components=component_rows(view, reached, live[0][0].manifest if live else None),
        graph=dependency_graph(view, reached),
        releases=[release_summary(release, slug) for release in releases],
        events=newest_events(session, user, slug, TIMELINE_EVENTS),
        suspension=suspension_view(session, user, slug),
        production=present_production(session, user, product, [suite.name for suite in view.suites]),
        classification=classification_view(session, slug),
        obligations=obligations_view(session, slug),
        candidates=candidate_comparison(session, product),
    )


@router.get("/products/{slug}")
def product_page(slug: str, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """A product: owner, purpose, policy, components, dependency graph, releases, audit timeline."""
    return render_page(request, "product.html", present_product(session, user, slug))
