"""Cutting releases: only a changed manifest is cut, a newer change supersedes the open release and its queued work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.audit.reading import export_events
from governance.catalog import products
from governance.catalog.models import RiskTier
from governance.catalog.products import get_product
from governance.catalog.schemas import ModelSettings, ProductUpdate
from governance.kernel.db import utcnow
from governance.kernel.errors import Forbidden, NotFound
from governance.releases.cutting import cut_release_by_hand, cut_releases
from governance.releases.models import ReleaseState
from governance.releases.policies import PolicyUpdate, update_policy
from governance.releases.status import product_status
from governance.runs.models import ChunkState, Run, RunChunk
from tests.factories import make_user
from tests.governance.releases.conftest import add_suite, change, make_live, move, releases_of

CAUSE = {"kind": "manual", "reason": "test"}


def chunk_states(session, release) -> list[str]:
    query = select(RunChunk.state).join(Run, Run.id == RunChunk.run_id).where(Run.release_id == release.id)
    return sorted(session.scalars(query))


def test_an_unchanged_manifest_cuts_nothing(session, owner, product):
    item = get_product(session, product)
    (first,) = cut_releases(session, owner, [item], CAUSE)
    assert cut_releases(session, owner, [item], CAUSE) == []
    assert cut_releases(session, owner, [item, item], CAUSE) == []
    assert releases_of(session, product) == [first]
    # Forced (a release by hand), the same manifest is cut again.
    (forced,) = cut_releases(session, owner, [item], CAUSE, force=True)
    assert forced.number == 2 and forced.manifest_hash == first.manifest_hash


def test_the_live_manifest_is_not_cut_again(session, owner, product):
    live = make_live(session, owner, product)
    assert cut_releases(session, owner, [get_product(session, product)], CAUSE) == []
    assert releases_of(session, product) == [live]


def test_a_new_change_supersedes_the_open_release_and_cancels_its_queued_chunks(session, owner, product):
    older = add_suite(session, owner, product, cases=3)
    assert older.state == ReleaseState.testing.value
    assert set(chunk_states(session, older)) == {ChunkState.queued.value}
    newer = change(session, owner, product, "a new prompt")
    assert newer.number == older.number + 1
    assert older.state == ReleaseState.superseded.value
    assert newer.state == ReleaseState.testing.value
    assert set(chunk_states(session, older)) == {ChunkState.cancelled.value}
    assert set(chunk_states(session, newer)) == {ChunkState.queued.value}
    superseded = [r for r in export_events(session, product=product) if r["action"] == "release.superseded"]
    assert [(r["subject"], r["before"], r["after"]["state"]) for r in superseded] == [
        (f"{product}#{older.number}", {"state": "testing"}, "superseded")
    ]


def test_a_change_back_to_the_live_manifest_supersedes_the_open_release_and_cuts_nothing(session, owner, product):
    live = make_live(session, owner, product)
    original = ModelSettings(**get_product(session, product).model)
    products.update_product(session, owner, product, ProductUpdate(model=original.model_copy(update={"name": "new"})))
    pending = releases_of(session, product)[-1]
    assert product_status(session, get_product(session, product)).status == "revalidation_required"
    products.update_product(session, owner, product, ProductUpdate(model=original))
    assert releases_of(session, product) == [live, pending]
    assert pending.state == ReleaseState.superseded.value
    assert product_status(session, get_product(session, product)).status == "compliant"


def test_retired_products_get_no_releases(session, owner, product):
    products.update_product(session, owner, product, ProductUpdate(lifecycle="retired"))
    assert cut_releases(session, owner, [get_product(session, product)], CAUSE, force=True) == []
    with pytest.raises(NotFound):
        cut_release_by_hand(session, owner, product, "please")
    assert releases_of(session, product) == []


def test_only_the_owner_or_an_admin_cuts_a_release_by_hand(session, owner, product):
    reviewer, _ = make_user(session, Role.reviewer)
    with pytest.raises(Forbidden, match="cutting a release is for the owner"):
        cut_release_by_hand(session, reviewer, product, "please")
    release = cut_release_by_hand(session, owner, product, "the provider moved the model")
    assert release.cause == {"kind": "manual", "reason": "the provider moved the model", "author": owner.name}


def test_without_a_live_release_nothing_is_due(session, owner, product):
    first = change(session, owner, product, "one")
    second = change(session, owner, product, "two")
    assert first.revalidation_due_at is None and second.revalidation_due_at is None


def test_the_revalidation_due_date_does_not_move_out_on_repeated_changes(session, owner, product):
    admin, _ = make_user(session, Role.admin)
    make_live(session, owner, product)
    start = utcnow()
    first = change(session, owner, product, "one")
    assert start + timedelta(days=14) <= first.revalidation_due_at <= utcnow() + timedelta(days=14)
    # A longer period, and later changes: the earlier deadline stands.
    update_policy(session, admin, RiskTier.high, PolicyUpdate(revalidation_days=60))
    second = change(session, owner, product, "two")
    third = change(session, owner, product, "three")
    assert second.revalidation_due_at == third.revalidation_due_at == first.revalidation_due_at
    # A shorter period pulls it in.
    update_policy(session, admin, RiskTier.high, PolicyUpdate(revalidation_days=1))
    fourth = change(session, owner, product, "four")
    assert fourth.revalidation_due_at <= utcnow() + timedelta(days=1)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(periods=st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=5))
def test_each_change_is_due_by_the_earliest_of_its_own_and_the_open_deadline(session, owner, product, periods):
    admin, _ = make_user(session, Role.admin)
    with session.begin_nested() as savepoint:
        make_live(session, owner, product)
        previous = None
        for index, days in enumerate(periods):
            update_policy(session, admin, RiskTier.high, PolicyUpdate(revalidation_days=days))
            before = utcnow()
            due = change(session, owner, product, f"change {index}").revalidation_due_at
            assert due <= utcnow() + timedelta(days=days)
            if previous is None:
                assert due >= before + timedelta(days=days)
            else:
                assert due <= previous
                assert due == previous or due >= before + timedelta(days=days)
            previous = due
        savepoint.rollback()


def test_a_failed_release_still_holds_the_deadline(session, owner, product):
    make_live(session, owner, product)
    first = change(session, owner, product, "one")
    assert first.state == ReleaseState.failed.value  # no suites: it cannot be tested
    admin, _ = make_user(session, Role.admin)
    update_policy(session, admin, RiskTier.high, PolicyUpdate(revalidation_days=60))
    assert change(session, owner, product, "two").revalidation_due_at == first.revalidation_due_at


def test_a_rejection_does_not_reset_the_deadline(session, owner, product):
    make_live(session, owner, product)
    first = change(session, owner, product, "one")
    move(session, first, ReleaseState.rejected)
    admin, _ = make_user(session, Role.admin)
    update_policy(session, admin, RiskTier.high, PolicyUpdate(revalidation_days=60))
    assert change(session, owner, product, "two").revalidation_due_at == first.revalidation_due_at


def test_going_live_again_starts_a_new_deadline(session, owner, product):
    live = make_live(session, owner, product)
    first = change(session, owner, product, "one")
    move(session, first, ReleaseState.rejected)
    move(session, live, ReleaseState.retired)
    make_live(session, owner, product)
    admin, _ = make_user(session, Role.admin)
    update_policy(session, admin, RiskTier.high, PolicyUpdate(revalidation_days=60))
    later = change(session, owner, product, "two").revalidation_due_at
    assert later is not None and later > first.revalidation_due_at


def test_superseding_writes_one_event_per_release_before_the_new_cut(session, owner, product):
    first = change(session, owner, product, "one")
    move(session, first, ReleaseState.signed_off)
    second = change(session, owner, product, "two")
    tail = [(r["action"], r["subject"], r["before"]) for r in export_events(session, product=product)][-4:]
    assert tail[0][:2] == ("prompt.published", f"{product}/system")
    assert tail[1] == ("release.superseded", f"{product}#{first.number}", {"state": "signed_off"})
    assert tail[2] == ("release.cut", f"{product}#{second.number}", None)
    assert tail[3] == ("release.failed", f"{product}#{second.number}", {"state": "testing"})
