"""The release state machine: ``transition`` moves a release only along ``ALLOWED``, with exactly one audit event."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit.reading import export_events
from governance.releases.models import OPEN_STATES, ReleaseState
from governance.releases.workflow import ALLOWED, IllegalTransition, transition
from tests.governance.releases.conftest import change

STATES = list(ReleaseState)


def events_of(session, slug: str) -> list[dict]:
    return list(export_events(session, product=slug))


def attempt(session, release, slug: str, to: ReleaseState) -> None:
    transition(session, release, to, actor="tester", action=f"test.{to.value}", product_slug=slug, reason="why")


def test_every_state_has_a_row_in_the_table():
    assert set(ALLOWED) == set(ReleaseState)
    assert all(targets <= set(ReleaseState) for targets in ALLOWED.values())


def test_every_pair_of_states_is_legal_exactly_when_the_table_says_so(session, owner, product):
    release = change(session, owner, product, "one")
    for current, to in itertools.product(STATES, STATES):
        release.state = current.value
        session.flush()
        before = events_of(session, product)
        if to in ALLOWED[current]:
            attempt(session, release, product, to)
            assert release.state == to.value
            (event,) = events_of(session, product)[len(before) :]
            assert event["action"] == f"test.{to.value}" and event["actor"] == "tester" and event["reason"] == "why"
            assert event["subject"] == f"{product}#{release.number}"
            assert event["before"] == {"state": current.value}
            assert event["after"] == {
                "state": to.value,
                "release_id": release.id,
                "manifest_hash": release.manifest_hash,
            }
        else:
            with pytest.raises(IllegalTransition) as refused:
                attempt(session, release, product, to)
            assert refused.value.status == 409
            assert f"is {current.value}; it cannot become {to.value}" in refused.value.detail
            assert refused.value.problems[0].field == "state"
            assert release.state == current.value
            assert events_of(session, product) == before


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(targets=st.lists(st.sampled_from(STATES), max_size=12))
def test_any_walk_moves_only_along_the_table_with_one_event_per_move(session, owner, product, targets):
    with session.begin_nested() as savepoint:
        release = change(session, owner, product, "one")
        release.state = ReleaseState.testing.value
        start = len(events_of(session, product))
        moves = []
        for to in targets:
            current = ReleaseState(release.state)
            try:
                attempt(session, release, product, to)
            except IllegalTransition:
                assert to not in ALLOWED[current]
                assert release.state == current.value
            else:
                assert to in ALLOWED[current]
                moves.append((current.value, to.value))
        trail = [(e["before"]["state"], e["after"]["state"]) for e in events_of(session, product)[start:]]
        assert trail == moves
        savepoint.rollback()


def test_details_are_added_to_the_event(session, owner, product):
    release = change(session, owner, product, "one")
    transition(
        session,
        release,
        ReleaseState.signed_off,
        actor="tester",
        action="release.signed_off",
        product_slug=product,
        details={"waiver": "no suites yet"},
    )
    assert events_of(session, product)[-1]["after"]["waiver"] == "no suites yet"


def test_the_table_keeps_the_rules_the_rest_of_the_domain_relies_on():
    S = ReleaseState
    # Closed releases stay closed.
    assert {state for state, targets in ALLOWED.items() if not targets} == {S.retired, S.superseded, S.rejected}
    # Only an approved release goes live, and a live one only retires.
    assert {state for state, targets in ALLOWED.items() if S.live in targets} == {S.approved}
    assert ALLOWED[S.live] == {S.retired}
    # A newer change supersedes, and a reviewer rejects, any release still on its way.
    assert all({S.superseded, S.rejected} <= ALLOWED[state] for state in OPEN_STATES)
    assert not any(state in targets for state, targets in ALLOWED.items())
    # Every state is reachable from a fresh cut.
    reached, frontier = {S.testing}, [S.testing]
    while frontier:
        for target in ALLOWED[frontier.pop()] - reached:
            reached.add(target)
            frontier.append(target)
    assert reached == set(ReleaseState)
