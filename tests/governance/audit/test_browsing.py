"""Browsing the trail newest first: pages read both ways meet up exactly, and filters narrow every page."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit import repository as audit_repo
from governance.audit.reading import browse_events
from governance.kernel.db import utcnow
from tests.governance.audit.conftest import write_events


class Reader:
    name = "auditor"


def walk_older(session, where, limit: int) -> list[list[int]]:
    pages, older = [], None
    while True:
        window = browse_events(session, Reader(), where, older_than=older, limit=limit)
        pages.append([event.seq for event in window.items])
        if window.older_than is None:
            return pages
        older = window.older_than


def test_the_newest_page_comes_first_and_the_oldest_has_no_older_link(session):
    write_events(session, 7, product="goal-coach", actor="alice")
    where = audit_repo.EventFilter()
    first = browse_events(session, Reader(), where, limit=3)
    assert [e.seq for e in first.items] == [7, 6, 5]
    assert first.newer_than is None and first.older_than == 5
    assert walk_older(session, where, 3) == [[7, 6, 5], [4, 3, 2], [1]]


def test_paging_back_towards_newer_events_returns_the_page_seen_before(session):
    write_events(session, 7, product="goal-coach", actor="alice")
    where = audit_repo.EventFilter()
    second = browse_events(session, Reader(), where, older_than=5, limit=3)
    assert [e.seq for e in second.items] == [4, 3, 2] and second.newer_than == 4
    back = browse_events(session, Reader(), where, newer_than=second.newer_than, limit=3)
    assert [e.seq for e in back.items] == [7, 6, 5]
    assert back.newer_than is None and back.older_than == 5


EXAMPLES = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    owners=st.lists(st.sampled_from(["mine", "other", None]), min_size=0, max_size=14),
    limit=st.integers(min_value=1, max_value=5),
)
def test_pages_both_ways_hold_every_matching_event_once_newest_first(session, owners, limit):
    """Down the pages and back up again: each event of the filter appears once, in the order of its seq."""
    # Examples share the test's transaction: each one filters by a product of its own.
    mine = f"mine-{next(EXAMPLES)}"
    written = [
        write_events(session, 1, product=mine if owner == "mine" else owner, actor="alice")[0] for owner in owners
    ]
    expected = [event.seq for event, owner in zip(written, owners, strict=True) if owner == "mine"][::-1]
    where = audit_repo.EventFilter(product=mine)
    down = walk_older(session, where, limit)
    assert [s for page in down for s in page] == expected
    assert all(len(page) <= limit for page in down)
    assert all(page for page in down[:-1])
    # From the oldest page, the newer links climb back through the same pages.
    window = browse_events(session, Reader(), where, older_than=down[-1][-1] + 1 if down[-1] else None, limit=limit)
    climbed = [[e.seq for e in window.items]]
    while window.newer_than is not None:
        window = browse_events(session, Reader(), where, newer_than=window.newer_than, limit=limit)
        climbed.append([e.seq for e in window.items])
    assert [s for page in reversed(climbed) for s in page] == expected


def test_filters_by_actor_action_and_a_time_range(session):
    write_events(session, 2, product="goal-coach", actor="alice")
    write_events(session, 2, product=None, actor="bob")
    only_bob = browse_events(session, Reader(), audit_repo.EventFilter(actor="bob"), limit=10)
    assert [e.actor for e in only_bob.items] == ["bob", "bob"]
    assert browse_events(session, Reader(), audit_repo.EventFilter(action="nothing.done"), limit=10).items == []
    now = utcnow()
    within = audit_repo.EventFilter(since=now - timedelta(hours=1), before=now + timedelta(hours=1))
    assert len(browse_events(session, Reader(), within, limit=10).items) == 4
    past = audit_repo.EventFilter(before=now - timedelta(hours=1))
    assert browse_events(session, Reader(), past, limit=10).items == []
    assert audit_repo.distinct_actors(session) == ["alice", "bob"]
    assert audit_repo.distinct_products(session) == ["goal-coach"]
    assert audit_repo.distinct_actions(session) == ["test.recorded"]
