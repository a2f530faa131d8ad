"""A product's status from its releases: no release, compliant, revalidation required, overdue."""

from __future__ import annotations

from datetime import timedelta

from governance.catalog.products import get_product
from governance.kernel.db import utcnow
from governance.releases.models import ReleaseState
from governance.releases.status import StatusView, product_status, product_statuses
from tests.factories import make_product
from tests.governance.releases.conftest import change, make_live, move


def status_of(session, slug: str) -> StatusView:
    return product_status(session, get_product(session, slug))


def test_a_product_without_releases_has_no_release(session, product):
    assert status_of(session, product) == StatusView("no_release", None, None, None, False)


def test_a_product_whose_first_release_is_on_its_way_has_no_release_but_a_pending_one(session, owner, product):
    first = change(session, owner, product, "one")
    assert status_of(session, product) == StatusView(
        "no_release", None, first.id, None, False, first.state, first.state_changed_at, pending_number=first.number
    )


def test_a_product_whose_newest_release_is_live_is_compliant(session, owner, product):
    live = make_live(session, owner, product)
    assert status_of(session, product) == StatusView("compliant", live.id, None, None, False, live_number=live.number)


def test_a_change_after_go_live_requires_revalidation_by_its_due_date(session, owner, product):
    live = make_live(session, owner, product)
    pending = change(session, owner, product, "one")
    status = status_of(session, product)
    assert status == StatusView(
        "revalidation_required",
        live.id,
        pending.id,
        pending.revalidation_due_at,
        False,
        pending.state,
        pending.state_changed_at,
        live_number=live.number,
        pending_number=pending.number,
    )
    assert status.revalidation_due_at > utcnow() + timedelta(days=13)


def test_superseded_releases_do_not_count(session, owner, product):
    live = make_live(session, owner, product)
    change(session, owner, product, "one")
    newest = change(session, owner, product, "two")
    assert status_of(session, product).pending_release == newest.id
    assert status_of(session, product).live_release == live.id


def test_a_past_due_date_is_overdue(session, owner, product):
    make_live(session, owner, product)
    pending = change(session, owner, product, "one")
    pending.revalidation_due_at = utcnow() - timedelta(minutes=1)
    session.flush()
    status = status_of(session, product)
    assert status.status == "revalidation_required" and status.overdue


def test_going_live_again_makes_the_product_compliant(session, owner, product):
    first = make_live(session, owner, product)
    pending = change(session, owner, product, "one")
    move(session, first, ReleaseState.retired)
    move(session, pending, ReleaseState.signed_off, ReleaseState.approved, ReleaseState.live)
    assert status_of(session, product) == StatusView(
        "compliant", pending.id, None, None, False, live_number=pending.number
    )


def test_statuses_of_many_products_in_one_call(session, owner, product):
    live_slug, pending_slug = make_product(session, owner), make_product(session, owner)
    live = make_live(session, owner, live_slug)
    make_live(session, owner, pending_slug)
    pending = change(session, owner, pending_slug, "one")
    ids = {slug: get_product(session, slug).id for slug in (product, live_slug, pending_slug)}
    statuses = product_statuses(session, list(ids.values()))
    assert statuses[ids[product]].status == "no_release"
    assert statuses[ids[live_slug]] == StatusView("compliant", live.id, None, None, False, live_number=live.number)
    assert statuses[ids[pending_slug]].pending_release == pending.id
    assert statuses[ids[pending_slug]].pending_number == pending.number
    assert product_statuses(session, []) == {}
