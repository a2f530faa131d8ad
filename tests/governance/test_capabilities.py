"""The web app's buttons follow ``governance.capabilities``; these tests hold it to the decision functions' rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish
from governance.kernel.db import utcnow
from governance.kernel.errors import DomainError
from governance.releases.cutting import get_release
from governance.releases.repository import list_for_product
from governance.review import decisions
from governance.review.capabilities import (
    APPROVE,
    GO_LIVE,
    REJECT,
    RERUN,
    SIGN_OFF,
    WAIVE,
    ReleaseFacts,
    action_refusals,
    allowed_actions,
)
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import make_user
from tests.inline_worker import run_queued_chunks

POLICY = "performance-management-policy"
NOW = utcnow()


def person(user_id: int, name: str, *roles: Role) -> User:
    return User(id=user_id, name=name, roles=[r.value for r in roles])


OWNER = person(1, "olivia", Role.product_owner)
REVIEWER = person(2, "rita", Role.reviewer)
ADMIN = person(3, "ada", Role.admin)
AUTHOR = person(4, "ari", Role.reviewer, Role.admin)


def facts(state: str, **overrides) -> ReleaseFacts:
    base = ReleaseFacts(
        state=state,
        release_id=7,
        product_slug="goal-coach",
        owner_id=OWNER.id,
        owner_name=OWNER.name,
        authors={"ari": ["document performance-management-policy v2"]},
        deciders=frozenset(),
        approvals=0,
        required_approvals=2,
        signed_off=state in ("signed_off", "approved"),
        oldest_evidence=NOW - timedelta(days=1),
        evidence_max_age_days=30,
        risk_tier="high",
    )
    return replace(base, **overrides)


def allowed(user: User, release_facts: ReleaseFacts) -> set[str]:
    return {a for a, reason in action_refusals(user, release_facts, now=NOW).items() if reason is None}


def test_only_the_owner_signs_off_a_passed_release_and_waives_a_failed_one():
    assert allowed(OWNER, facts("passed")) == {SIGN_OFF, RERUN}
    assert allowed(OWNER, facts("failed")) == {WAIVE, RERUN}
    assert SIGN_OFF not in allowed(ADMIN, facts("passed"))
    refusal = action_refusals(REVIEWER, facts("passed"), now=NOW)[SIGN_OFF]
    assert refusal == "only the owner of 'goal-coach' (olivia) signs off its releases"


def test_reviewers_approve_signed_off_releases_but_never_their_own_or_twice():
    assert allowed(REVIEWER, facts("signed_off")) == {APPROVE, REJECT}
    assert allowed(OWNER, facts("signed_off")) == {RERUN}
    owner_refusal = action_refusals(OWNER, facts("signed_off"), now=NOW)[APPROVE]
    assert "requires the role reviewer" in owner_refusal
    # An owner who is also a reviewer is still refused: four eyes, not two.
    reviewing_owner = person(OWNER.id, "olivia", Role.product_owner, Role.reviewer)
    assert "never reviews their own product" in action_refusals(reviewing_owner, facts("signed_off"), now=NOW)[APPROVE]
    assert (
        "already decided"
        in action_refusals(REVIEWER, facts("signed_off", deciders=frozenset({"rita"})), now=NOW)[APPROVE]
    )


def test_an_author_of_the_change_may_not_decide_on_it():
    refusals = action_refusals(AUTHOR, facts("signed_off"), now=NOW)
    assert "authored what this release changes" in refusals[APPROVE]
    assert "authored what this release changes" in refusals[REJECT]


def test_stale_evidence_blocks_approval():
    old = facts("signed_off", oldest_evidence=NOW - timedelta(days=31))
    assert "re-run the suites" in action_refusals(REVIEWER, old, now=NOW)[APPROVE]
    assert REJECT in allowed(REVIEWER, old)


def test_go_live_needs_an_approved_release_and_the_owner_or_an_admin():
    approved = facts("approved", approvals=2)
    assert allowed(OWNER, approved) == {GO_LIVE}
    assert GO_LIVE in allowed(ADMIN, approved)
    assert GO_LIVE not in allowed(REVIEWER, approved)
    assert GO_LIVE not in allowed(OWNER, facts("approved", approvals=1))
    assert allowed(OWNER, facts("live")) == set()


def test_re_runs_are_for_the_owner_an_admin_or_ci_while_the_release_is_on_its_way():
    ci = person(5, "ci-bot", Role.ci)
    for user in (OWNER, ADMIN, ci):
        assert RERUN in allowed(user, facts("failed"))
    assert RERUN not in allowed(REVIEWER, facts("failed"))
    assert RERUN not in allowed(OWNER, facts("approved", approvals=2))
    assert "no runs to repeat" in action_refusals(OWNER, facts("failed", has_runs=False), now=NOW)[RERUN]


@pytest.mark.parametrize("state", ["live", "retired", "superseded", "rejected"])
def test_nothing_is_offered_on_a_finished_release(state):
    for user in (OWNER, REVIEWER, ADMIN):
        assert allowed(user, facts(state)) == set()


# --- the same rules against the decision functions themselves --------------------------------------------


def attempt(session, action: Callable[[], object]) -> bool:
    """Whether the domain accepts the action; whatever it wrote is rolled back."""
    savepoint = session.begin_nested()
    try:
        action()
    except DomainError:
        return False
    finally:
        savepoint.rollback()
    return True


def domain_actions(session, user: User, release_id: int) -> dict[str, Callable[[], object]]:
    waiver = "The failing case is a known false positive of the judge, tracked in HR-123."
    return {
        SIGN_OFF: lambda: decisions.sign_off(session, user, release_id, decisions.SignOffRequest(note="ok")),
        WAIVE: lambda: decisions.sign_off(session, user, release_id, decisions.SignOffRequest(waiver=waiver)),
        APPROVE: lambda: decisions.approve(session, user, release_id, decisions.ApproveRequest(note="ok")),
        REJECT: lambda: decisions.reject(session, user, release_id, decisions.RejectRequest(reason="not yet")),
        GO_LIVE: lambda: decisions.go_live(session, user, release_id),
        RERUN: lambda: decisions.rerun_release(session, user, release_id),
    }


def assert_mirrors_domain(session, users: dict[str, User], release_id: int) -> None:
    for name, user in users.items():
        release = get_release(session, release_id)
        offered = allowed_actions(session, user, release)
        for action, run in domain_actions(session, user, release_id).items():
            accepted = attempt(session, run)
            assert (action in offered) == accepted, (name, release.state, action, offered)


def test_allowed_actions_match_the_decision_functions_along_the_journey(session):
    users = {
        "olivia": make_user(session, Role.product_owner, name="olivia")[0],
        "paula": make_user(session, Role.product_owner, name="paula")[0],
        "rita": make_user(session, Role.reviewer, name="rita")[0],
        "ravi": make_user(session, Role.reviewer, name="ravi")[0],
        "ari": make_user(session, Role.admin, Role.reviewer, name="ari")[0],
    }
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users["olivia"], shared_actor=users["paula"])
    product = bundle.product.slug
    first = list_for_product(session, get_product(session, product).id, before_number=0, limit=1)[0]
    run_queued_chunks(session)
    decisions.sign_off(session, users["olivia"], first.id, decisions.SignOffRequest())
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, users[reviewer], first.id, decisions.ApproveRequest())
    decisions.go_live(session, users["olivia"], first.id)

    # ari (admin and reviewer) changes the policy: the release that follows is ari's own change.
    head = bundle.documents[POLICY]
    components.publish_document(
        session, users["ari"], POLICY, DocumentPublish(**{**head.model_dump(), "content": head.content + "\n\nNew."})
    )
    release = list_for_product(session, first.product_id, before_number=0, limit=1)[0]
    assert release.state == "testing"
    assert_mirrors_domain(session, users, release.id)
    run_queued_chunks(session)
    assert get_release(session, release.id).state == "passed"
    assert_mirrors_domain(session, users, release.id)
    decisions.sign_off(session, users["olivia"], release.id, decisions.SignOffRequest())
    assert_mirrors_domain(session, users, release.id)
    assert allowed_actions(session, users["ari"], release) == {RERUN}  # an admin may refresh the evidence
    decisions.approve(session, users["rita"], release.id, decisions.ApproveRequest())
    assert_mirrors_domain(session, users, release.id)
    decisions.approve(session, users["ravi"], release.id, decisions.ApproveRequest())
    assert_mirrors_domain(session, users, release.id)
    assert allowed_actions(session, users["olivia"], get_release(session, release.id)) == {GO_LIVE}
    decisions.go_live(session, users["olivia"], release.id)
    assert_mirrors_domain(session, users, release.id)
