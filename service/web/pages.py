"""Pages to read: home (what waits for me, every product), product, release, impact and audit.

Each page is one GET in one transaction, built only from ``governance`` functions. They all work with
JavaScript off; htmx only refreshes the run progress of a release that is still testing.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from governance.audit import reading as audit
from governance.catalog import impact
from governance.catalog.components import list_shared
from governance.catalog.models import ComponentKind, Product
from governance.catalog.products import get_product, list_products
from governance.kernel.errors import Invalid, NotFound
from governance.kernel.pagination import decode_cursor
from governance.releases import status as releases
from governance.releases.cutting import get_release
from governance.releases.policies import get_policy, policy_snapshot
from governance.releases.repository import list_for_product
from governance.releases.status import product_view
from governance.review.facts import facts_of, gather, gather_by_id
from governance.review.rules import Action, allowed, refusals
from governance.review.views import release_summary, release_view, release_view_of
from service.api.deps import DbSession
from service.web.changes import describe_changes
from service.web.evidence import run_evidence
from service.web.graph import dependency_graph
from service.web.routing import STATIC_DIR, WebRoute, WebUser, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "steward.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
PRODUCTS_SHOWN = 500
AUDIT_PAGE = 50
TIMELINE_EVENTS = 30
# What the owner is asked to do, in the order home lists them.
OWNER_TASKS = {
    Action.sign_off: "sign off",
    Action.waive: "runs failed: fix, re-run or waive",
    Action.go_live: "take live",
}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    # A fixed list, not a directory: nothing but these files is ever served from the package.
    if name not in STATIC_FILES:
        raise NotFound(f"no static file '{name}'")
    return FileResponse(
        STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/")
def home(request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """What waits for me, and every product with its status."""
    page = list_products(session, after=0, limit=PRODUCTS_SHOWN)
    products: list[Product] = page.items
    statuses = releases.product_statuses(session, [p.id for p in products])
    pending = gather_by_id(session, [s.pending_release for s in statuses.values() if s.pending_release is not None])
    owner_tasks, reviews = [], []
    for product in products:
        status = statuses[product.id]
        if status.overdue and product.owner_id == user.id:
            owner_tasks.append({"product": product, "release": None, "task": "revalidation overdue", "status": status})
        if status.pending_release is None:
            continue
        record = pending[status.pending_release]
        release = record.release
        offered = allowed(facts_of(record), user)
        for action, task in OWNER_TASKS.items():
            if action in offered:
                owner_tasks.append({"product": product, "release": release, "task": task, "status": status})
        if Action.approve in offered:
            reviews.append({"product": product, "release": release})
    reviews.sort(key=lambda item: item["release"].state_changed_at)
    rows = [{"product": p, "status": statuses[p.id]} for p in products]
    return render(
        request,
        "home.html",
        {"owner_tasks": owner_tasks, "reviews": reviews, "rows": rows, "more": page.next is not None},
    )


def _newest_events(session, user, product: str, count: int) -> list:
    """The product's latest events; the trail is read in chain order, so keep only the tail."""
    tail: deque = deque(maxlen=count)
    after = 0
    while True:
        page = audit.list_events(session, user, after=after, limit=200, product=product)
        tail.extend(page.items)
        if page.next is None:
            return list(reversed(tail))
        after = decode_cursor(page.next)


@router.get("/products/{slug}")
def product_page(slug: str, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """A product: owner, purpose, policy, components, dependency graph, releases, audit timeline."""
    product = get_product(session, slug)
    view = product_view(session, product)
    return render(
        request,
        "product.html",
        {
            "product": view,
            "policy": policy_snapshot(get_policy(session, product.risk_tier)),
            "graph": dependency_graph(view),
            "releases": [
                release_summary(r, slug) for r in list_for_product(session, product.id, before_number=0, limit=30)
            ],
            "events": _newest_events(session, user, slug, TIMELINE_EVENTS),
        },
    )


def _release_context(session, user, release_id: int) -> dict:
    record = gather(session, get_release(session, release_id))
    refused = refusals(facts_of(record), user)
    return {
        "release": release_view_of(session, record),
        "product": record.product,
        "refusals": {action.value: r.reason if r else None for action, r in refused.items()},
        "allowed": {action.value for action, r in refused.items() if r is None},
    }


@router.get("/releases/{release_id}")
def release_page(release_id: int, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """A release: why it is where it is, what changed, the evidence, the decisions and what I may do."""
    context = _release_context(session, user, release_id)
    view = context["release"]
    context["changes"] = describe_changes(session, context["product"], view.changes)
    context["evidence"] = run_evidence(session, view)
    return render(request, "release.html", context)


@router.get("/releases/{release_id}/progress")
def release_progress(release_id: int, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """The run progress fragment htmx polls while a release is testing; once it is not, the page reloads."""
    release = get_release(session, release_id)
    view = release_view(session, release)
    response = render(
        request, "_progress.html", {"release": view, "evidence": run_evidence(session, view, with_cases=False)}
    )
    if view.state != "testing":
        response.headers["HX-Refresh"] = "true"
    return response


def _shared_choices(session) -> dict[str, list[str]]:
    return {
        kind.value: [c.name for c in list_shared(session, kind, after=0, limit=500).items]
        for kind in (ComponentKind.document, ComponentKind.process)
    }


@router.get("/impact")
def impact_page(
    request: Request,
    session: DbSession,
    user: WebUser,
    component: Annotated[str, Query(description="kind:slug of a document or process")] = "",
) -> HTMLResponse:
    """Pick a document or process and see the products a change to it would touch, and through what."""
    result = None
    if component:
        kind_name, _, slug = component.partition(":")
        if kind_name not in ("document", "process") or not slug:
            raise Invalid("choose a document or a process", field="component")
        found, products = impact.impacted_by_kind(session, ComponentKind(kind_name), slug)
        result = {"component": found, "products": products}
    return render(
        request, "impact.html", {"choices": _shared_choices(session), "selected": component, "result": result}
    )


def _since(value: str) -> datetime | None:
    if not value:
        return None
    try:
        since = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("give a date like 2025-01-31 or 2025-01-31T09:00", field="since") from exc
    return since if since.tzinfo else since.replace(tzinfo=UTC)


@router.get("/audit")
def audit_page(
    request: Request,
    session: DbSession,
    user: WebUser,
    product: str = "",
    actor: str = "",
    since: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """The audit trail, filtered, with the hash chain's verification status."""
    page = audit.list_events(
        session,
        user,
        after=decode_cursor(cursor),
        limit=AUDIT_PAGE,
        product=product or None,
        by=actor or None,
        since=_since(since),
    )
    filters = {"product": product, "actor": actor, "since": since}
    return render(
        request,
        "audit.html",
        {"events": page.items, "next": page.next, "filters": filters, "chain": audit.verify_chain(session)},
    )
