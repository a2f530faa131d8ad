"""The decision functions apply the table of rules: along the reference journey, every user's every action is
accepted exactly when the table allows it, and refused with exactly the table's error, words and field."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.models import RiskTier
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish, PromptPublish, SuitePublish
from governance.kernel.errors import Conflict, DomainError
from governance.releases.policies import PolicyUpdate, update_policy
from governance.releases.reading import get_release
from governance.releases.repository import list_for_product
from governance.review import decisions
from governance.review.facts import facts_of, gather
from governance.review.rules import Action, allowed, refusal
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks

POLICY = "performance-management-policy"
WAIVER = "The failing case is a known false positive of the judge, tracked in HR-123."


def domain_actions(session: Session, user: User, release_id: int) -> dict[Action, Callable[[], object]]:
    return {
        Action.sign_off: lambda: decisions.sign_off(session, user, release_id, decisions.SignOffRequest(note="ok")),
        Action.waive: lambda: decisions.sign_off(session, user, release_id, decisions.SignOffRequest(waiver=WAIVER)),
        Action.approve: lambda: decisions.approve(session, user, release_id, decisions.ApproveRequest(note="ok")),
        Action.reject: lambda: decisions.reject(session, user, release_id, decisions.RejectRequest(reason="not yet")),
        Action.request_changes: lambda: decisions.request_changes(
            session, user, release_id, decisions.ChangesRequest(changes="cite the clause")
        ),
        Action.go_live: lambda: decisions.go_live(session, user, release_id),
        Action.rerun: lambda: decisions.rerun_release(session, user, release_id),
    }


def outcome(session: Session, action: Callable[[], object]) -> DomainError | None:
    """What the domain says to the action (None: accepted); whatever it wrote is rolled back."""
    savepoint = session.begin_nested()
    try:
        action()
    except DomainError as refused:
        return refused
    finally:
        savepoint.rollback()
    return None


def assert_decisions_follow_the_table(session: Session, users: dict[str, User], release_id: int) -> None:
    for name, user in users.items():
        release_facts = facts_of(gather(session, get_release(session, release_id)))
        for action, act in domain_actions(session, user, release_id).items():
            expected, got = refusal(action, release_facts, user), outcome(session, act)
            where = (name, release_facts.state, action)
            if expected is None:
                assert got is None, (*where, got)
                continue
            assert got is not None, where
            assert (type(got), got.detail) == (expected.error, expected.reason), where
            assert [p.field for p in got.problems] == ([expected.field] if expected.field else []), where


def test_decisions_accept_and_refuse_exactly_what_the_table_says_along_the_journey(session: Session) -> None:
    users = {
        "olivia": make_user(session, Role.product_owner, name="olivia")[0],
        "paula": make_user(session, Role.product_owner, name="paula")[0],
        "rita": make_user(session, Role.reviewer, name="rita")[0],
        "ravi": make_user(session, Role.reviewer, name="ravi")[0],
        "ari": make_user(session, Role.admin, Role.reviewer, name="ari")[0],
        "cid": make_user(session, Role.ci, name="cid")[0],
    }
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users["olivia"], shared_actor=users["paula"])
    first = list_for_product(session, get_product(session, bundle.product.slug).id, before_number=0, limit=1)[0]
    run_queued_chunks(session)
    decisions.sign_off(session, users["olivia"], first.id, decisions.SignOffRequest())
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, users[reviewer], first.id, decisions.ApproveRequest())
    decisions.go_live(session, users["olivia"], first.id)
    assert_decisions_follow_the_table(session, users, first.id)

    # ari (admin and reviewer) changes the policy: the release that follows is ari's own change.
    head = bundle.documents[POLICY]
    components.publish_document(
        session, users["ari"], POLICY, DocumentPublish(**{**head.model_dump(), "content": head.content + "\n\nNew."})
    )
    release = list_for_product(session, first.product_id, before_number=0, limit=1)[0]
    assert release.state == "testing"
    assert_decisions_follow_the_table(session, users, release.id)
    run_queued_chunks(session)
    assert get_release(session, release.id).state == "passed"
    assert_decisions_follow_the_table(session, users, release.id)
    decisions.sign_off(session, users["olivia"], release.id, decisions.SignOffRequest())
    assert_decisions_follow_the_table(session, users, release.id)
    # An admin may refresh the evidence, but ari wrote the change and never decides on it.
    assert allowed(facts_of(gather(session, release)), users["ari"]) == {Action.rerun}
    decisions.approve(session, users["rita"], release.id, decisions.ApproveRequest())
    assert_decisions_follow_the_table(session, users, release.id)
    decisions.approve(session, users["ravi"], release.id, decisions.ApproveRequest())
    assert_decisions_follow_the_table(session, users, release.id)
    assert allowed(facts_of(gather(session, release)), users["olivia"]) == {Action.go_live}
    decisions.go_live(session, users["olivia"], release.id)
    assert_decisions_follow_the_table(session, users, release.id)
    assert_decisions_follow_the_table(session, users, first.id)  # now retired


def test_a_failed_release_goes_ahead_only_on_a_waiver_and_a_rerun_starts_a_new_cycle(session: Session) -> None:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    users = {"olivia": owner, "rita": make_user(session, Role.reviewer, name="rita")[0]}
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach.", message=""))
    strict = SuitePublish(spec=suite_spec(expect="words no answer contains"), message="")
    components.publish_suite(session, owner, slug, "quality", strict)
    run_queued_chunks(session)
    release = list_for_product(session, get_product(session, slug).id, before_number=0, limit=1)[0]
    assert release.state == "failed"
    assert_decisions_follow_the_table(session, users, release.id)
    assert allowed(facts_of(gather(session, release)), owner) == {Action.waive, Action.rerun}
    runs = decisions.rerun_release(session, owner, release.id)
    assert release.state == "testing" and release.cycle == 2
    assert [run.attempt for run in runs] == [2]
    assert_decisions_follow_the_table(session, users, release.id)
    run_queued_chunks(session)
    decisions.sign_off(session, owner, release.id, decisions.SignOffRequest(waiver=WAIVER))
    assert release.state == "signed_off"
    assert_decisions_follow_the_table(session, users, release.id)


def failed_and_waived(session: Session) -> tuple[dict[str, User], int]:
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    users = {
        "olivia": owner,
        "rita": make_user(session, Role.reviewer, name="rita")[0],
        "ada": make_user(session, Role.admin, name="ada")[0],
    }
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach.", message=""))
    strict = SuitePublish(spec=suite_spec(expect="words no answer contains"), message="")
    components.publish_suite(session, owner, slug, "quality", strict)
    run_queued_chunks(session)
    release = list_for_product(session, get_product(session, slug).id, before_number=0, limit=1)[0]
    decisions.sign_off(session, owner, release.id, decisions.SignOffRequest(waiver=WAIVER))
    return users, release.id


def test_a_request_for_changes_voids_the_sign_off_and_keeps_the_release_open(session: Session) -> None:
    users, release_id = failed_and_waived(session)
    changes = decisions.ChangesRequest(changes="Fix the judge instead of waiving it.")
    release = decisions.request_changes(session, users["rita"], release_id, changes)
    assert release.state == "failed" and release.cycle == 2
    release_facts = facts_of(gather(session, release))
    assert release_facts.changes_requested == ("rita", "Fix the judge instead of waiving it.")
    assert allowed(release_facts, users["olivia"]) == {Action.waive, Action.rerun}
    assert_decisions_follow_the_table(session, users, release_id)
    # Signing off again answers the request: it no longer holds the release.
    decisions.sign_off(session, users["olivia"], release_id, decisions.SignOffRequest(waiver=WAIVER + " Fixed."))
    assert facts_of(gather(session, release)).changes_requested is None


def test_the_policy_flag_refuses_approval_on_offline_evidence_until_turned_off(session: Session) -> None:
    users, release_id = failed_and_waived(session)
    update_policy(session, users["ada"], RiskTier.high, PolicyUpdate(refuse_offline_evidence=True))
    approve = decisions.ApproveRequest(note="ok")
    savepoint = session.begin_nested()
    try:
        decisions.approve(session, users["rita"], release_id, approve)
        raise AssertionError("approved on offline evidence")
    except Conflict as refused:
        assert "refuses offline evidence" in refused.detail and refused.problems[0].field == "evidence"
    finally:
        savepoint.rollback()
    assert_decisions_follow_the_table(session, users, release_id)
    reason = "No model in this environment; offline evidence accepted for the pilot."
    update_policy(
        session,
        users["ada"],
        RiskTier.high,
        PolicyUpdate(refuse_offline_evidence=False, offline_evidence_reason=reason),
    )
    assert decisions.approve(session, users["rita"], release_id, approve).state == "signed_off"
