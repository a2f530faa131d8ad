"""The pages' presenters without HTTP: what each page shows, read through the governance functions in a number of
queries that does not grow with the number of products."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.releases.repository import list_for_product
from governance.review import decisions
from governance.review.rules import Action
from service.web.pages.home import present_home
from service.web.pages.release import present_release
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks


@pytest.fixture(autouse=True)
def _sqlite_is_enough(database_url: str) -> None:
    # The presenters run no SQL of their own; the domain functions they call are tested on both databases.
    if database_url.startswith("postgresql"):
        pytest.skip("web presenters are tested on SQLite only")


def passed_products(session: Session, owner: User, count: int) -> list[str]:
    slugs = [make_product(session, owner) for _ in range(count)]
    for slug in slugs:
        components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach.", message=""))
        components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec(), message=""))
    run_queued_chunks(session)
    return slugs


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


def test_home_lists_the_owners_tasks_and_the_reviewers_queue(session: Session) -> None:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    rita = make_user(session, Role.reviewer, name="rita")[0]
    first, second = passed_products(session, owner, 2)
    release = list_for_product(session, get_product(session, first).id, before_number=0, limit=1)[0]
    decisions.sign_off(session, owner, release.id, decisions.SignOffRequest())

    mine = present_home(session, owner)
    assert [(t.product.slug, t.task) for t in mine.owner_tasks] == [(second, "sign off")]
    assert mine.reviews == [] and [row.product.slug for row in mine.rows] == [first, second]
    theirs = present_home(session, rita)
    assert theirs.owner_tasks == [] and [r.release.id for r in theirs.reviews] == [release.id]


def test_home_reads_as_many_queries_for_many_products_as_for_one(session: Session, connection: Connection) -> None:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    passed_products(session, owner, 1)
    session.flush()
    one = queries(connection, lambda: present_home(session, owner))
    passed_products(session, owner, 4)
    session.flush()
    assert queries(connection, lambda: present_home(session, owner)) == one


def test_the_release_page_offers_the_forms_the_rules_allow_and_says_why_not_the_others(session: Session) -> None:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    rita = make_user(session, Role.reviewer, name="rita")[0]
    (slug,) = passed_products(session, owner, 1)
    release = list_for_product(session, get_product(session, slug).id, before_number=0, limit=1)[0]

    page = present_release(session, owner, release.id)
    assert page.allowed == {Action.sign_off.value, Action.rerun.value}
    assert set(page.refusals) == {action.value for action in Action}
    assert page.refusals[Action.approve.value] == (
        "approving a release requires the role reviewer; olivia has product_owner"
    )
    assert page.release.held_by == "every suite passed; waiting for the product owner's sign-off"
    assert present_release(session, rita, release.id).allowed == {Action.reject.value}
