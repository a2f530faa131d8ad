"""Home at scale: the product list searched, sorted and paged; the owner's tasks by due date and what waits on
others; a number of queries that does not grow with the number of products."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog import components, products
from governance.catalog.products import get_product
from governance.catalog.schemas import ModelSettings, ProductCreate, PromptPublish, SuitePublish
from governance.kernel.db import utcnow
from governance.releases.repository import list_for_product
from governance.releases.status import StatusView
from governance.review import decisions
from service.web.pages import home as home_page
from service.web.pages.home import (
    PRODUCTS_PER_PAGE,
    OwnerTask,
    ProductQuery,
    Sort,
    group_by_due,
    present_home,
)
from tests.factories import make_user, suite_spec
from tests.inline_worker import run_queued_chunks

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TIERS = ("minimal", "limited", "high")


@pytest.fixture(autouse=True)
def _sqlite_is_enough(database_url: str) -> None:
    # The presenter runs no SQL of its own; the catalogue's listing query is tested on both databases.
    if database_url.startswith("postgresql"):
        pytest.skip("web presenters are tested on SQLite only")


def add_products(session: Session, owner: User, count: int, prefix: str = "product") -> list[str]:
    """Products named so that name order and id order differ, the risk tiers in turn."""
    slugs = []
    for index in range(count):
        slug = f"{prefix}-{index:03d}"
        data = ProductCreate(
            slug=slug,
            name=f"{prefix.title()} {(index * 7) % count:03d}",
            risk_tier=TIERS[index % len(TIERS)],
            model=ModelSettings(provider="offline", name="m"),
        )
        products.create_product(session, owner, data)
        slugs.append(slug)
    session.flush()
    return slugs


def with_passed_release(session: Session, owner: User, slug: str) -> int:
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach.", message=""))
    components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec(), message=""))
    run_queued_chunks(session)
    return list_for_product(session, get_product(session, slug).id, before_number=0, limit=1)[0].id


def every_page(session: Session, user: User, query: ProductQuery) -> list[str]:
    first = present_home(session, user, query)
    slugs = [row.product.slug for row in first.rows]
    for number in range(2, first.pages + 1):
        page = present_home(session, user, ProductQuery(query.q, query.sort, number))
        slugs += [row.product.slug for row in page.rows]
    return slugs


def test_products_come_a_page_at_a_time_and_every_product_once(session: Session) -> None:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    slugs = add_products(session, owner, PRODUCTS_PER_PAGE + 7)
    first = present_home(session, owner)
    assert (len(first.rows), first.pages, first.matching) == (PRODUCTS_PER_PAGE, 2, len(slugs))
    last = present_home(session, owner, ProductQuery(page=2))
    assert len(last.rows) == 7 and last.query.page == 2
    # A page past the end shows the last one rather than nothing.
    assert present_home(session, owner, ProductQuery(page=9)).rows == last.rows
    for sort in Sort:
        listed = every_page(session, owner, ProductQuery(sort=sort))
        assert sorted(listed) == sorted(slugs), sort


def test_sorting_by_name_risk_status_and_due_date(session: Session) -> None:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    slugs = add_products(session, owner, 9)
    pending = slugs[4]
    with_passed_release(session, owner, pending)
    by_name = present_home(session, owner, ProductQuery(sort=Sort.name)).rows
    assert [r.product.name for r in by_name] == sorted(r.product.name for r in by_name)
    by_risk = [r.product.risk_tier for r in present_home(session, owner, ProductQuery(sort=Sort.risk)).rows]
    assert by_risk == ["high"] * 3 + ["limited"] * 3 + ["minimal"] * 3
    by_status = present_home(session, owner, ProductQuery(sort=Sort.status)).rows
    assert [r.status.status for r in by_status] == ["no_release"] * 9
    # Within one status the name decides, so the order is the same on every request.
    assert [r.product.name for r in by_status] == sorted(r.product.name for r in by_status)


def test_search_matches_name_slug_or_owner_in_any_case_and_takes_wildcards_literally(session: Session) -> None:
    olivia = make_user(session, Role.product_owner, name="olivia")[0]
    oscar = make_user(session, Role.product_owner, name="oscar")[0]
    coaches = add_products(session, olivia, 3, prefix="coach")
    screeners = add_products(session, oscar, 2, prefix="screener")

    def found(q: str) -> list[str]:
        return sorted(r.product.slug for r in present_home(session, olivia, ProductQuery(q=q)).rows)

    assert found("COACH") == coaches
    assert found("screener-001") == [screeners[1]]
    assert found("Oscar") == screeners
    assert found("%") == [] and found("_") == []
    page = present_home(session, olivia, ProductQuery(q="nothing like it"))
    assert (page.rows, page.matching, page.pages) == ([], 0, 1)


def test_the_owner_sees_tasks_by_due_date_and_what_waits_on_reviewers(session: Session) -> None:
    olivia = make_user(session, Role.product_owner, name="olivia")[0]
    rita = make_user(session, Role.reviewer, name="rita")[0]
    to_sign, signed = add_products(session, olivia, 2)
    with_passed_release(session, olivia, to_sign)
    waiting_release = with_passed_release(session, olivia, signed)
    decisions.sign_off(session, olivia, waiting_release, decisions.SignOffRequest())

    mine = present_home(session, olivia)
    assert [(g.title, [(t.product.slug, t.task) for t in g.tasks]) for g in mine.task_groups] == [
        ("No due date", [(to_sign, "sign off")])
    ]
    assert [(w.product.slug, w.release.id, w.waiting_for) for w in mine.waiting] == [
        (signed, waiting_release, "reviewers' approval")
    ]
    theirs = present_home(session, rita)
    assert theirs.task_groups == [] and theirs.waiting == []
    assert [r.release.id for r in theirs.reviews] == [waiting_release]


def test_a_reviewer_is_shown_the_longest_waiting_releases_and_links_to_the_rest(session: Session, monkeypatch) -> None:
    monkeypatch.setattr(home_page, "REVIEWS_GATHERED", 2)
    olivia = make_user(session, Role.product_owner, name="olivia")[0]
    rita = make_user(session, Role.reviewer, name="rita")[0]
    signed = []
    for slug in add_products(session, olivia, 3):
        signed.append(with_passed_release(session, olivia, slug))
        decisions.sign_off(session, olivia, signed[-1], decisions.SignOffRequest())
        session.flush()
    page = present_home(session, rita)
    assert [r.release.id for r in page.reviews] == signed[:2]
    assert [(m.release_id, m.state) for m in page.more_reviews] == [(signed[2], "signed_off")]
    # The owner's own releases are always gathered, whatever the cap.
    assert len(present_home(session, olivia).waiting) == 3


def task_due(due_in: timedelta | None) -> OwnerTask:
    now = utcnow()
    status = StatusView("revalidation_required", 1, 2, None if due_in is None else now + due_in, False)
    return OwnerTask(product=None, release=None, task="sign off", status=status)  # type: ignore[arg-type]


@given(st.lists(st.one_of(st.none(), st.integers(min_value=-30, max_value=60)), max_size=20))
def test_every_task_falls_in_exactly_one_due_window_earliest_first(days: list[int | None]) -> None:
    tasks = [task_due(None if d is None else timedelta(days=d, hours=12)) for d in days]
    groups = group_by_due(tasks, utcnow())
    assert sum(len(g.tasks) for g in groups) == len(tasks)
    assert all(g.tasks for g in groups)
    windows = {"Overdue": (-31, 0), "Due within 7 days": (0, 7), "Due later": (7, 61)}
    for group in groups:
        dues = [t.status.revalidation_due_at for t in group.tasks]
        if group.title == "No due date":
            assert dues == [None] * len(dues)
            continue
        assert dues == sorted(dues)  # type: ignore[type-var]
        low, high = windows[group.title]
        now = utcnow()
        assert all(now + timedelta(days=low) <= due < now + timedelta(days=high) for due in dues)  # type: ignore[operator]
    order = [g.title for g in groups]
    assert order == [t for t in ("Overdue", "Due within 7 days", "Due later", "No due date") if t in order]


def queries(connection: Connection, work: Callable[[], object]) -> int:
    seen: list[object] = []

    def note(*args: object) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(connection, "before_cursor_execute", note)
    return len(seen)


def test_home_costs_the_same_queries_for_3_products_as_for_120(session: Session, connection: Connection) -> None:
    olivia = make_user(session, Role.product_owner, name="olivia")[0]
    rita = make_user(session, Role.reviewer, name="rita")[0]
    small = add_products(session, olivia, 3)
    for slug in small[:2]:
        with_passed_release(session, olivia, slug)
    decisions.sign_off(session, olivia, with_passed_release(session, olivia, small[2]), decisions.SignOffRequest())
    session.flush()
    views = [(user, query) for user in (olivia, rita) for query in (ProductQuery(), ProductQuery(q="product"))]
    before = [queries(connection, lambda u=user, q=query: present_home(session, u, q)) for user, query in views]

    large = add_products(session, olivia, 117, prefix="more")
    for slug in large[:6]:
        with_passed_release(session, olivia, slug)
    for slug in large[6:9]:
        release = with_passed_release(session, olivia, slug)
        decisions.sign_off(session, olivia, release, decisions.SignOffRequest())
    session.flush()
    after = [queries(connection, lambda u=user, q=query: present_home(session, u, q)) for user, query in views]
    assert after == before
    assert len(present_home(session, rita).reviews) == 4


@pytest.fixture
async def web(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        yield http


async def test_the_page_links_keep_the_search_and_order_and_bad_values_are_the_fields_errors(web, session) -> None:
    olivia, token = make_user(session, Role.product_owner, name="olivia")
    add_products(session, olivia, PRODUCTS_PER_PAGE + 1)
    session.flush()
    page = await web.get("/sign-in")
    await web.post("/sign-in", data={"csrf_token": CSRF.search(page.text).group(1), "token": token, "next": "/"})
    home = await web.get("/", params={"q": "product", "sort": "risk"})
    assert home.status_code == 200
    assert 'href="/?q=product&amp;sort=risk&amp;page=2#products"' in home.text
    assert "51 products match “product”; page 1 of 2" in home.text
    second = await web.get("/", params={"q": "product", "sort": "risk", "page": "2"})
    assert second.text.count("<tr data-product=") == 1
    refusals = (
        ({"sort": "owner"}, "sort by one of: status, due, risk, name"),
        ({"page": "0"}, "a page number from 1"),
        ({"q": "x" * 101}, "search at most 100 characters"),
    )
    for params, why in refusals:
        refused = await web.get("/", params=params)
        assert refused.status_code == 422, params
        assert why in refused.text
