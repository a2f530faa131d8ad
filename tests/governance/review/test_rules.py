"""The table of release rules on its own: each guard refuses and allows what it should, and the table as a whole
keeps the governance invariants whatever the facts (hypothesis draws them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, DomainError, Forbidden, Invalid
from governance.releases.models import OPEN_STATES, ReleaseState
from governance.releases.workflow import ALLOWED, IllegalTransition
from governance.review import rules
from governance.review.facts import ReleaseFacts
from governance.review.rules import HELD_BY, RERUNNABLE, RULES, Action, Guard, allowed, refusal, refusals, require

S = ReleaseState
NOW = utcnow()
NAMES = {1: "olivia", 2: "rita", 3: "ada", 4: "ari", 5: "cid"}
FINISHED = frozenset(S) - OPEN_STATES


def person(user_id: int, *roles: Role) -> User:
    return User(id=user_id, name=NAMES[user_id], roles=[r.value for r in roles])


OWNER = person(1, Role.product_owner)
REVIEWER = person(2, Role.reviewer)
ADMIN = person(3, Role.admin)
AUTHOR = person(4, Role.reviewer, Role.admin)
CI = person(5, Role.ci)


def facts(state: S = S.passed, **overrides: Any) -> ReleaseFacts:
    base = ReleaseFacts(
        release_id=70,
        release_number=7,
        state=state,
        error="suite 'quality' failed (pass rate 50%)" if state == S.failed else None,
        product_slug="goal-coach",
        owner_id=OWNER.id,
        owner_name=OWNER.name,
        risk_tier="high",
        required_approvals=2,
        evidence_max_age_days=30,
        authors={"ari": ("document performance-management-policy v2",)},
        signers=frozenset({"olivia"}) if state in (S.signed_off, S.approved) else frozenset(),
        owners=frozenset({"olivia"}),
        deciders=frozenset(),
        approvers=frozenset(),
        signed_off=state in (S.signed_off, S.approved),
        runs=1,
        finished_runs=0 if state == S.testing else 1,
        oldest_evidence=None if state == S.testing else NOW - timedelta(days=1),
        superseded_by=None,
        rejection=None,
        now=NOW,
    )
    return replace(base, **overrides)


# --- each guard -----------------------------------------------------------------------------------------------

APPROVED_TWICE = facts(S.approved, approvers=frozenset({"rita", "ravi"}))

# (guard, a case it refuses, a case it lets pass): each case is the facts and the acting user.
GUARD_CASES: list[tuple[Guard, tuple[ReleaseFacts, User], tuple[ReleaseFacts, User]]] = [
    (rules.owner_signs_off, (facts(), REVIEWER), (facts(), OWNER)),
    (rules.owner_signs_off, (facts(), ADMIN), (facts(S.failed), OWNER)),
    (RULES[Action.approve][0], (facts(S.signed_off), OWNER), (facts(S.signed_off), REVIEWER)),
    (RULES[Action.reject][0], (facts(S.signed_off), ADMIN), (facts(S.signed_off), AUTHOR)),
    (rules.not_the_owner, (facts(S.signed_off), person(1, Role.reviewer)), (facts(S.signed_off), REVIEWER)),
    (rules.not_an_author, (facts(S.signed_off), AUTHOR), (facts(S.signed_off), REVIEWER)),
    (
        rules.not_a_signer,
        (facts(S.signed_off, signers=frozenset({"rita"})), REVIEWER),
        (facts(S.signed_off), REVIEWER),
    ),
    (
        rules.not_a_past_owner,
        (facts(S.signed_off, owners=frozenset({"olivia", "rita"})), REVIEWER),
        (facts(S.signed_off), REVIEWER),
    ),
    (rules.owner_or_admin_goes_live, (APPROVED_TWICE, REVIEWER), (APPROVED_TWICE, ADMIN)),
    (rules.owner_or_admin_goes_live, (APPROVED_TWICE, CI), (APPROVED_TWICE, OWNER)),
    (rules.owner_admin_or_ci_reruns, (facts(S.failed), REVIEWER), (facts(S.failed), CI)),
    (rules.waiver_when_failed, (facts(S.failed), OWNER), (facts(S.passed), OWNER)),
    (rules.waiver_only_when_failed, (facts(S.passed), OWNER), (facts(S.failed), OWNER)),
    (RULES[Action.sign_off][-1], (facts(S.testing), OWNER), (facts(S.passed), OWNER)),
    (RULES[Action.reject][-1], (facts(S.live), REVIEWER), (facts(S.approved), REVIEWER)),
    (rules.signed_off_to_approve, (facts(S.passed), REVIEWER), (facts(S.signed_off), REVIEWER)),
    (
        rules.fresh_evidence,
        (facts(S.signed_off, oldest_evidence=NOW - timedelta(days=31)), REVIEWER),
        (facts(S.signed_off, oldest_evidence=NOW - timedelta(days=30)), REVIEWER),
    ),
    (
        rules.first_decision,
        (facts(S.signed_off, deciders=frozenset({"rita"})), REVIEWER),
        (facts(S.signed_off, deciders=frozenset({"ravi"})), REVIEWER),
    ),
    (
        rules.live_evidence_when_required,
        (facts(S.signed_off, refuse_offline_evidence=True, offline_suites=("quality",)), REVIEWER),
        (facts(S.signed_off, refuse_offline_evidence=False, offline_suites=("quality",)), REVIEWER),
    ),
    (
        rules.live_evidence_when_required,
        (facts(S.signed_off, refuse_offline_evidence=True, offline_suites=("quality", "safety")), REVIEWER),
        (facts(S.signed_off, refuse_offline_evidence=True, offline_suites=()), REVIEWER),
    ),
    (RULES[Action.request_changes][0], (facts(S.signed_off), OWNER), (facts(S.signed_off), REVIEWER)),
    (rules.signed_off_to_send_back, (facts(S.approved), REVIEWER), (facts(S.signed_off), REVIEWER)),
    (rules.approved_to_go_live, (facts(S.signed_off), OWNER), (APPROVED_TWICE, OWNER)),
    (
        rules.signed_off_and_approved,
        (facts(S.approved, approvers=frozenset({"rita"})), OWNER),
        (APPROVED_TWICE, OWNER),
    ),
    (rules.signed_off_and_approved, (replace(APPROVED_TWICE, signed_off=False), OWNER), (APPROVED_TWICE, OWNER)),
    (rules.has_runs, (facts(S.failed, runs=0), OWNER), (facts(S.failed), OWNER)),
    (
        rules.not_prohibited,
        (replace(APPROVED_TWICE, prohibited="declared for emotion recognition at work (Art. 5(1)(f))"), OWNER),
        (APPROVED_TWICE, OWNER),
    ),
    (
        rules.obligations_met,
        (replace(APPROVED_TWICE, unmet_obligations=("dpia (GDPR Art. 35): no evidence recorded (dpia)",)), OWNER),
        (APPROVED_TWICE, OWNER),
    ),
    (
        rules.documents_pass_lint,
        (
            replace(APPROVED_TWICE, blocking_findings=("document handbook v2: 1 special_category (health line 4)",)),
            OWNER,
        ),
        (APPROVED_TWICE, OWNER),
    ),
    (rules.on_its_way, (facts(S.approved), OWNER), (facts(S.signed_off), OWNER)),
]


@pytest.mark.parametrize(("check", "refused", "passes"), GUARD_CASES, ids=lambda case: getattr(case, "rule", ""))
def test_each_guard_refuses_and_allows_what_it_should(
    check: Guard, refused: tuple[ReleaseFacts, User], passes: tuple[ReleaseFacts, User]
) -> None:
    refusal_ = check(*refused)
    assert refusal_ is not None and refusal_.rule == check.rule and refusal_.reason
    assert check(*passes) is None


def test_every_guard_of_the_table_has_cases() -> None:
    tested = {check.rule for check, _, _ in GUARD_CASES}
    assert tested == {check.rule for guards in RULES.values() for check in guards}


def test_who_is_forbidden_state_is_a_conflict_and_the_payload_is_invalid() -> None:
    statuses = {check.rule: check.error.status for guards in RULES.values() for check in guards}
    who = {"owner_signs_off", "reviewer_role", "not_the_owner", "not_an_author", "not_a_signer", "not_a_past_owner"}
    who |= {"owner_or_admin_goes_live", "owner_admin_or_ci_reruns"}
    assert {rule for rule, status in statuses.items() if status == 403} == who
    assert {rule for rule, status in statuses.items() if status == 422} == {"waiver_only_when_failed"}
    assert all(status == 409 for rule, status in statuses.items() if rule not in who | {"waiver_only_when_failed"})


# --- the words the API and the pages show ---------------------------------------------------------------------


def reason(action: Action, release_facts: ReleaseFacts, user: User) -> str | None:
    refused = refusal(action, release_facts, user)
    return refused.reason if refused else None


def test_refusals_say_which_rule_holds_in_the_domains_words() -> None:
    assert reason(Action.sign_off, facts(), REVIEWER) == (
        "only the owner of 'goal-coach' (olivia) signs off its releases"
    )
    assert reason(Action.sign_off, facts(S.failed), OWNER) == (
        "release 7 failed its runs (suite 'quality' failed (pass rate 50%)); signing it off needs a written waiver"
    )
    assert reason(Action.waive, facts(S.passed), OWNER) == "a waiver is for a failed release; this one passed"
    assert reason(Action.waive, facts(S.live), OWNER) == (
        "release 7 of 'goal-coach' is live; it cannot become signed_off (release.signed_off)"
    )
    assert reason(Action.approve, facts(S.signed_off), OWNER) == (
        "approving a release requires the role reviewer; olivia has product_owner"
    )
    assert (
        reason(Action.reject, facts(S.signed_off), person(3))
        == "rejecting a release requires the role reviewer; ada has none"
    )
    assert reason(Action.approve, facts(S.signed_off), AUTHOR) == (
        "ari authored what this release changes (document performance-management-policy v2): "
        "the approver must not be an author of the change"
    )
    stale = facts(S.signed_off, oldest_evidence=datetime(2025, 1, 2, tzinfo=NOW.tzinfo))
    assert reason(Action.approve, stale, REVIEWER) == (
        "the evidence is from 2025-01-02, older than the high policy's 30 days: re-run the suites before approving"
    )
    assert reason(Action.go_live, facts(S.approved), OWNER) == "release 7 lacks a current sign-off or 2 approvals"
    assert reason(Action.rerun, facts(S.failed, runs=0, error=None), REVIEWER) == (
        "release 7 has no runs to repeat (it has no suites)"
    )
    assert reason(Action.rerun, facts(S.live), CI) == (
        "release 7 is live; only a release still on its way can be re-run"
    )


def test_each_refusal_raises_as_the_domain_error_it_names() -> None:
    with pytest.raises(Forbidden) as forbidden:
        require(Action.go_live, APPROVED_TWICE, REVIEWER)
    assert forbidden.value.problems == []
    with pytest.raises(IllegalTransition) as illegal:
        require(Action.sign_off, facts(S.testing), OWNER)
    assert [(p.field, p.reason) for p in illegal.value.problems] == [("state", illegal.value.detail)]
    with pytest.raises(Conflict) as conflict:
        require(Action.approve, facts(S.signed_off, deciders=frozenset({"rita"})), REVIEWER)
    assert conflict.value.problems[0].field == "reviewer"
    with pytest.raises(Invalid) as invalid:
        require(Action.waive, facts(S.passed), OWNER)
    assert invalid.value.problems[0].field == "waiver"
    require(Action.approve, facts(S.signed_off), REVIEWER)


# --- the table as a whole, over any facts ---------------------------------------------------------------------

users = st.builds(
    lambda user_id, roles: person(user_id, *roles),
    st.sampled_from(sorted(NAMES)),
    st.frozensets(st.sampled_from(Role)),
)


@st.composite
def any_facts(draw: st.DrawFn) -> ReleaseFacts:
    state = draw(st.sampled_from(S))
    owner = draw(st.sampled_from(sorted(NAMES)))
    runs = draw(st.integers(0, 3))
    finished = draw(st.integers(0, runs))
    deciders = draw(st.frozensets(st.sampled_from(sorted(NAMES.values()))))
    authored = st.tuples(st.sampled_from(["prompt system v3", "document policy v2"]))
    return facts(
        state,
        error=draw(st.sampled_from([None, "suite 'quality' errored"])),
        owner_id=owner,
        owner_name=NAMES[owner],
        required_approvals=draw(st.integers(1, 3)),
        authors=draw(st.dictionaries(st.sampled_from(sorted(NAMES.values())), authored, max_size=2)),
        deciders=deciders,
        approvers=draw(st.frozensets(st.sampled_from(sorted(deciders)))) if deciders else frozenset(),
        signed_off=draw(st.booleans()),
        runs=runs,
        finished_runs=finished,
        oldest_evidence=NOW - timedelta(days=draw(st.integers(0, 60))) if finished else None,
        superseded_by=draw(st.none() | st.integers(8, 9)),
        rejection=draw(st.none() | st.just(("rita", "not yet"))),
        refuse_offline_evidence=draw(st.booleans()),
        offline_suites=draw(st.sampled_from([(), ("quality",), ("quality", "safety")])),
        changes_requested=draw(st.none() | st.just(("rita", "cite the policy clause"))),
    )


@given(any_facts(), users)
def test_the_refusal_is_the_first_guard_that_refuses_and_names_it(release_facts: ReleaseFacts, user: User) -> None:
    for action, guards in RULES.items():
        verdicts = [check(release_facts, user) for check in guards]
        first = next((v for v in verdicts if v is not None), None)
        assert refusal(action, release_facts, user) == first
        if first is not None:
            assert first.rule in {check.rule for check in guards}
            assert first.status == first.error.status


@given(any_facts(), users)
def test_require_raises_exactly_what_the_table_refuses_and_allowed_is_the_rest(
    release_facts: ReleaseFacts, user: User
) -> None:
    table = refusals(release_facts, user)
    assert set(table) == set(Action)
    for action, refused in table.items():
        if refused is None:
            require(action, release_facts, user)
            continue
        with pytest.raises(DomainError) as raised:
            require(action, release_facts, user)
        assert type(raised.value) is refused.error and raised.value.detail == refused.reason
        assert raised.value.status == refused.status
    assert allowed(release_facts, user) == {action for action, refused in table.items() if refused is None}


@given(any_facts(), users)
def test_four_eyes_whatever_the_facts(release_facts: ReleaseFacts, user: User) -> None:
    offered = allowed(release_facts, user)
    decides = offered & {Action.approve, Action.reject}
    if decides:
        assert user.has_role(Role.reviewer)
        assert user.id != release_facts.owner_id
        assert user.name not in release_facts.authors
        assert user.name not in release_facts.signers
        assert user.name not in release_facts.owners
    if offered & {Action.sign_off, Action.waive}:
        assert user.id == release_facts.owner_id
    if Action.approve in offered:
        assert release_facts.state == S.signed_off and user.name not in release_facts.deciders
        # Where the policy refuses offline evidence, no required suite answered only from the offline provider.
        assert not (release_facts.refuse_offline_evidence and release_facts.offline_suites)
    if Action.request_changes in offered:
        assert user.has_role(Role.reviewer) and user.id != release_facts.owner_id
        assert user.name not in release_facts.signers | release_facts.owners | set(release_facts.authors)
        assert release_facts.state == S.signed_off and user.name not in release_facts.deciders


@given(any_facts(), users)
def test_the_state_decides_what_can_happen_at_all(release_facts: ReleaseFacts, user: User) -> None:
    offered = allowed(release_facts, user)
    if release_facts.state in FINISHED:
        assert offered == set()
    assert not {Action.sign_off, Action.waive} <= offered  # passed and failed exclude each other
    if Action.sign_off in offered:
        assert release_facts.state == S.passed
    if Action.waive in offered:
        assert release_facts.state == S.failed
    if Action.go_live in offered:
        assert release_facts.state == S.approved and release_facts.signed_off
        assert len(release_facts.approvers) >= release_facts.required_approvals
    if Action.rerun in offered:
        assert release_facts.state in RERUNNABLE and release_facts.runs > 0
    if Action.reject in offered:
        assert S.rejected in ALLOWED[release_facts.state]


def test_a_rerun_is_for_releases_on_their_way() -> None:
    assert {S.testing, S.passed, S.failed, S.signed_off} == RERUNNABLE


@given(any_facts())
def test_every_state_says_what_holds_the_release(release_facts: ReleaseFacts) -> None:
    assert set(HELD_BY) == set(S)
    assert rules.held_by(release_facts)


def test_held_by_in_words() -> None:
    assert rules.held_by(facts(S.testing, runs=3, finished_runs=1)) == "runs in progress: 1 of 3 suites finished"
    signed_off = facts(S.signed_off, approvers=frozenset({"rita"}))
    assert rules.held_by(signed_off) == (
        "signed off; waiting for approvals from independent reviewers: 1 of 2 (high risk policy)"
    )
    assert rules.held_by(facts(S.superseded, superseded_by=9)) == "superseded by release 9"
    assert rules.held_by(facts(S.superseded)) == "superseded by a newer change"
    assert rules.held_by(facts(S.rejected, rejection=("rita", "not yet"))) == "rejected by rita: not yet"
    sent_back = facts(S.passed, changes_requested=("rita", "cite clause 14"))
    assert rules.held_by(sent_back) == (
        "changes requested by rita: cite clause 14; the owner fixes and publishes, or signs off again"
    )


def test_offline_evidence_is_refused_in_words_that_name_the_suites() -> None:
    offline = facts(S.signed_off, refuse_offline_evidence=True, offline_suites=("quality", "safety"))
    refused = refusal(Action.approve, offline, REVIEWER)
    assert refused is not None and refused.rule == "live_evidence_when_required" and refused.status == 409
    assert refused.reason == (
        "the high policy refuses offline evidence: required suite(s) 'quality', 'safety' ran only on the offline "
        "provider, which answers from scripts and cannot see a prompt change; run them on a real model"
    )
    # Rejecting and asking for changes stay open: the rule guards approval, not the reviewer's other answers.
    assert {Action.reject, Action.request_changes} <= allowed(offline, REVIEWER)
