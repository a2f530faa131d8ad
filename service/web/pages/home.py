"""Home: what waits for the signed-in user (their products' tasks, releases awaiting their approval), and every
product with its status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from governance.accounts.models import User
from governance.catalog.products import list_products
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.status import StatusView, product_statuses
from governance.review.facts import facts_of, gather_by_id
from governance.review.rules import Action, allowed
from governance.review.views import ReleaseChecklist, release_checklists
from service.api.deps import DbSession
from service.web.pages.production import ProductionTask, production_tasks
from service.web.routing import WebRoute, WebUser, render_page

if TYPE_CHECKING:
    from governance.catalog.models import Product
    from governance.releases.models import Release

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PRODUCTS_SHOWN = 500
# What the owner is asked to do, in the order home lists them.
OWNER_TASKS = {
    Action.sign_off: "sign off",
    Action.waive: "runs failed: fix, re-run or waive",
    Action.go_live: "take live",
}


@dataclass(frozen=True)
class OwnerTask:
    product: Product
    release: Release | None
    task: str
    status: StatusView
    changes_requested: tuple[str, str] | None = None
    """A reviewer's open request for changes: (reviewer, what to change)."""
    checklist: ReleaseChecklist | None = None


@dataclass(frozen=True)
class AwaitingApproval:
    product: Product
    release: Release
    checklist: ReleaseChecklist


@dataclass(frozen=True)
class ProductRow:
    product: Product
    status: StatusView


@dataclass(frozen=True)
class HomePage:
    owner_tasks: list[OwnerTask]
    reviews: list[AwaitingApproval]
    """Oldest sign-off first: the release that has waited longest."""
    rows: list[ProductRow]
    more: bool
    """More products exist than the page lists."""
    production_tasks: list[ProductionTask]
    """KPI alerts and incidents of the user's products in production."""


def present_home(session: UnitOfWork, user: User) -> HomePage:
    """The user's tasks come from the rules table: a release is theirs to act on when the table allows it."""
    page = list_products(session, after=0, limit=PRODUCTS_SHOWN)
    statuses = product_statuses(session, [p.id for p in page.items])
    pending = gather_by_id(session, [s.pending_release for s in statuses.values() if s.pending_release is not None])
    checklists = release_checklists(session, list(pending.values()))
    owner_tasks: list[OwnerTask] = []
    reviews: list[AwaitingApproval] = []
    for product in page.items:
        status = statuses[product.id]
        if status.overdue and product.owner_id == user.id:
            owner_tasks.append(OwnerTask(product, None, "revalidation overdue", status))
        if status.pending_release is None:
            continue
        record = pending[status.pending_release]
        release_facts = facts_of(record)
        offered = allowed(release_facts, user)
        tasks = [task for action, task in OWNER_TASKS.items() if action in offered]
        if release_facts.changes_requested is not None and product.owner_id == user.id:
            tasks = tasks or ["changes requested"]
        owner_tasks += [
            OwnerTask(
                product, record.release, task, status, release_facts.changes_requested, checklists[record.release.id]
            )
            for task in tasks
        ]
        if Action.approve in offered:
            reviews.append(AwaitingApproval(product, record.release, checklists[record.release.id]))
    reviews.sort(key=lambda item: item.release.state_changed_at)
    rows = [ProductRow(product, statuses[product.id]) for product in page.items]
    return HomePage(
        owner_tasks=owner_tasks,
        reviews=reviews,
        rows=rows,
        more=page.next is not None,
        production_tasks=production_tasks(session, user, page.items),
    )


@router.get("/")
def home(request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """What waits for me, and every product with its status."""
    return render_page(request, "home.html", present_home(session, user))
