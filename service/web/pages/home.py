"""Home: what waits for the signed-in user (their products' tasks grouped by due date, releases awaiting their
approval, their releases waiting on someone else), and every product with its status: searched, sorted, paged.

A fixed number of queries whatever the number of products: the product list is read as plain columns with one
status query for all of them; only the releases the user could act on or waits on are gathered, in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog import repository as catalog_repo
from governance.catalog.models import RiskTier
from governance.catalog.repository import ProductIndexRow
from governance.kernel.db import utcnow
from governance.kernel.errors import Invalid
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.models import ReleaseState
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

PRODUCTS_PER_PAGE = 50
SEARCH_MAX = 100
# What the owner is asked to do, in the order home lists them.
OWNER_TASKS = {
    Action.sign_off: "sign off",
    Action.waive: "runs failed: fix, re-run or waive",
    Action.go_live: "take live",
}
# Someone other than the owner may act on a release in these states: reviewers approve a signed-off release, an
# admin may take an approved one live. Home gathers other products' releases only in the states the user's roles
# could act on (the rules table still decides); gathering a release is the dearest part of the page.
OTHERS_ACT_ON = {Role.reviewer: ReleaseState.signed_off.value, Role.admin: ReleaseState.approved.value}
# Who a release of the owner's waits on, by state, when the owner has nothing to do on it.
WAITING_ON = {
    ReleaseState.testing.value: "the runs to finish",
    ReleaseState.signed_off.value: "reviewers' approval",
    ReleaseState.approved.value: "an admin to take it live",
}
DUE_SOON = timedelta(days=7)
# Other products' releases gathered for the review queue, the longest waiting first: what a reviewer works through
# first, while the page stays one batch however many wait. The rest are listed as links.
REVIEWS_GATHERED = 25


class Sort(StrEnum):
    """The orders of the product list; each falls back to the name, then the slug, so a page never reshuffles."""

    status = "status"
    """Most urgent first: overdue, revalidation required, no release, compliant."""
    due = "due"
    """Earliest revalidation due date first; products with none last."""
    risk = "risk"
    """Highest risk tier first."""
    name = "name"


SORT_LABELS = {Sort.status: "status", Sort.due: "revalidation due date", Sort.risk: "risk tier", Sort.name: "name"}
STATUS_URGENCY = {"revalidation_required": 1, "no_release": 2, "compliant": 3}
RISK_ORDER = {RiskTier.high.value: 0, RiskTier.limited.value: 1, RiskTier.minimal.value: 2}
FAR_FUTURE = datetime.max.replace(tzinfo=None)


@dataclass(frozen=True)
class OwnerTask:
    product: Product | ProductIndexRow
    release: Release | None
    task: str
    status: StatusView
    changes_requested: tuple[str, str] | None = None
    """A reviewer's open request for changes: (reviewer, what to change)."""
    checklist: ReleaseChecklist | None = None


@dataclass(frozen=True)
class TaskGroup:
    """The owner's tasks that fall due in one window (overdue, within a week, later, no date), earliest first."""

    title: str
    tasks: list[OwnerTask]


@dataclass(frozen=True)
class AwaitingApproval:
    product: Product
    release: Release
    checklist: ReleaseChecklist


@dataclass(frozen=True)
class WaitingOnOthers:
    """A release of the user's own product where the next step is someone else's."""

    product: Product
    release: Release
    waiting_for: str
    checklist: ReleaseChecklist


@dataclass(frozen=True)
class MoreToReview:
    """A release beyond the gathered ones, in a state the user's role acts on: not yet checked against the rules."""

    product: ProductIndexRow
    release_id: int
    state: str
    number: int | None
    """The release's number within its product (its page's address)."""


@dataclass(frozen=True)
class ProductRow:
    product: ProductIndexRow
    status: StatusView


@dataclass(frozen=True)
class ProductQuery:
    """The product list's search, order and page, as the form and the links carry them."""

    q: str = ""
    sort: Sort = Sort.status
    page: int = 1

    def link(self, **changes: str | int) -> str:
        values = {"q": self.q, "sort": self.sort.value, "page": self.page, **changes}
        kept = {key: value for key, value in values.items() if value not in ("", 1) or key == "sort"}
        return "/?" + urlencode(kept) + "#products"


@dataclass(frozen=True)
class HomePage:
    task_groups: list[TaskGroup]
    """The owner's tasks by due date; empty groups are left out."""
    reviews: list[AwaitingApproval]
    """Oldest sign-off first: the release that has waited longest."""
    waiting: list[WaitingOnOthers]
    more_reviews: list[MoreToReview]
    """Releases in a state the user's role acts on, past the REVIEWS_GATHERED longest waiting."""
    rows: list[ProductRow]
    """One page of the product list."""
    query: ProductQuery
    matching: int
    """How many products match the search (all pages)."""
    pages: int
    production_tasks: list[ProductionTask]
    """KPI alerts and incidents of the user's products in production."""

    @property
    def owner_tasks(self) -> list[OwnerTask]:
        return [task for group in self.task_groups for task in group.tasks]

    @property
    def sorts(self) -> list[tuple[Sort, str]]:
        return list(SORT_LABELS.items())


def parse_query(q: str, sort: str, page: str) -> ProductQuery:
    """The query string as typed; a wrong value is the field's error, never a 500."""
    if len(q) > SEARCH_MAX:
        raise Invalid(f"search at most {SEARCH_MAX} characters", field="q")
    try:
        order = Sort(sort or Sort.status)
    except ValueError as exc:
        raise Invalid(f"sort by one of: {', '.join(Sort)}", field="sort") from exc
    if not page:
        return ProductQuery(q.strip(), order, 1)
    if not page.isdigit() or int(page) < 1:
        raise Invalid("a page number from 1", field="page")
    return ProductQuery(q.strip(), order, int(page))


def sort_rows(rows: list[ProductRow], sort: Sort) -> list[ProductRow]:
    def name(row: ProductRow) -> tuple[str, str]:
        return (row.product.name.casefold(), row.product.slug)

    if sort is Sort.status:
        return sorted(rows, key=lambda r: (0 if r.status.overdue else STATUS_URGENCY[r.status.status], *name(r)))
    if sort is Sort.due:
        return sorted(rows, key=lambda r: (_naive(r.status.revalidation_due_at), *name(r)))
    if sort is Sort.risk:
        return sorted(rows, key=lambda r: (RISK_ORDER.get(r.product.risk_tier, len(RISK_ORDER)), *name(r)))
    return sorted(rows, key=name)


def _naive(when: datetime | None) -> datetime:
    """A due date comparable with "none" (which sorts last); databases hand back aware or naive UTC alike."""
    return FAR_FUTURE if when is None else when.replace(tzinfo=None)


def group_by_due(tasks: list[OwnerTask], now: datetime) -> list[TaskGroup]:
    windows: dict[str, list[OwnerTask]] = {"Overdue": [], "Due within 7 days": [], "Due later": [], "No due date": []}
    for task in sorted(tasks, key=lambda t: _naive(t.status.revalidation_due_at)):
        due = task.status.revalidation_due_at
        if due is None:
            windows["No due date"].append(task)
        elif _naive(due) < _naive(now):
            windows["Overdue"].append(task)
        elif _naive(due) < _naive(now + DUE_SOON):
            windows["Due within 7 days"].append(task)
        else:
            windows["Due later"].append(task)
    return [TaskGroup(title, grouped) for title, grouped in windows.items() if grouped]


def present_home(session: UnitOfWork, user: User, query: ProductQuery = ProductQuery()) -> HomePage:
    """The user's tasks come from the rules table: a release is theirs to act on when the table allows it."""
    everything = catalog_repo.product_index(session)
    statuses = product_statuses(session, [p.id for p in everything])
    owned = [p for p in everything if p.owner_id == user.id]
    others_act_on = {state for role, state in OTHERS_ACT_ON.items() if user.has_role(role)}
    mine = [s.pending_release for p in owned if (s := statuses[p.id]).pending_release is not None]
    others = sorted(
        (
            (_naive(status.pending_since), status.pending_release, product)
            for product in everything
            if product.owner_id != user.id
            and (status := statuses[product.id]).pending_release is not None
            and status.pending_state in others_act_on
        ),
        key=lambda item: (item[0], item[1]),
    )
    records = gather_by_id(session, [*mine, *(release_id for _, release_id, _ in others[:REVIEWS_GATHERED])])
    more_reviews = [
        MoreToReview(product, release_id, statuses[product.id].pending_state or "", statuses[product.id].pending_number)
        for _, release_id, product in others[REVIEWS_GATHERED:]
    ]
    checklists = release_checklists(session, list(records.values()))
    owner_tasks: list[OwnerTask] = []
    reviews: list[AwaitingApproval] = []
    waiting: list[WaitingOnOthers] = []
    for row in owned:
        status = statuses[row.id]
        if status.overdue:
            owner_tasks.append(OwnerTask(row, None, "revalidation overdue", status))
    for record in records.values():
        product, release = record.product, record.release
        status = statuses[product.id]
        release_facts = facts_of(record)
        offered = allowed(release_facts, user)
        tasks = [task for action, task in OWNER_TASKS.items() if action in offered]
        if release_facts.changes_requested is not None and product.owner_id == user.id:
            tasks = tasks or ["changes requested"]
        checklist = checklists[release.id]
        owner_tasks += [
            OwnerTask(product, release, task, status, release_facts.changes_requested, checklist) for task in tasks
        ]
        if Action.approve in offered:
            reviews.append(AwaitingApproval(product, release, checklist))
        elif product.owner_id == user.id and not tasks and release.state in WAITING_ON:
            waiting.append(WaitingOnOthers(product, release, WAITING_ON[release.state], checklist))
    reviews.sort(key=lambda item: _naive(item.release.state_changed_at))
    waiting.sort(key=lambda item: _naive(item.release.state_changed_at))
    matching = catalog_repo.product_index(session, query.q) if query.q else everything
    rows = sort_rows([ProductRow(p, statuses[p.id]) for p in matching], query.sort)
    pages = max(1, -(-len(rows) // PRODUCTS_PER_PAGE))
    start = (min(query.page, pages) - 1) * PRODUCTS_PER_PAGE
    return HomePage(
        task_groups=group_by_due(owner_tasks, utcnow()),
        reviews=reviews,
        waiting=waiting,
        more_reviews=more_reviews,
        rows=rows[start : start + PRODUCTS_PER_PAGE],
        query=ProductQuery(query.q, query.sort, min(query.page, pages)),
        matching=len(rows),
        pages=pages,
        production_tasks=production_tasks(session, user, owned),
    )


@router.get("/")
def home(
    request: Request, session: DbSession, user: WebUser, q: str = "", sort: str = "", page: str = ""
) -> HTMLResponse:
    """What waits for me, and every product with its status: searched, sorted, a page at a time."""
    return render_page(request, "home.html", present_home(session, user, parse_query(q, sort, page)))
