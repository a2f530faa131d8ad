"""A bundle whose product's suites would not render in the release it cuts is refused at plan time."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from governance.accounts.roles import Role
from governance.bundles.applying import apply_bundle, plan_bundle
from governance.bundles.schemas import BundleRequest
from governance.catalog.models import ComponentVersion
from governance.kernel.errors import Invalid
from governance.releases.models import Release
from tests.factories import make_user
from tests.governance.bundles.test_applying import goal_coach


@pytest.fixture
def olivia(session):
    return make_user(session, Role.product_owner, name="olivia")[0]


def versions_and_releases(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(ComponentVersion)),
        session.scalar(select(func.count()).select_from(Release)),
    )


def misspelt_case(body: dict) -> tuple[int, str]:
    """The quality suite's first case with ``employee_message`` misspelt; its place and id."""
    index = next(i for i, s in enumerate(body["suites"]) if s["name"] == "goal-coach-quality")
    case = body["suites"][index]["spec"]["cases"][0]
    case["vars"]["employee_mesage"] = case["vars"].pop("employee_message")
    return index, case["id"]


def test_a_suite_with_a_misspelt_variable_is_refused_naming_the_case_and_the_fix(session, olivia):
    body = goal_coach().model_dump(mode="json")
    index, case_id = misspelt_case(body)
    plan = plan_bundle(session, olivia, BundleRequest.model_validate(body))
    assert [(p.field, p.status) for p in plan.problems] == [(f"suites[{index}].spec.cases[0].vars", 422)]
    reason = plan.problems[0].reason
    assert reason.startswith(f"case {case_id}: ") and "'employee_message' is undefined" in reason
    assert "did you mean 'employee_mesage'" in reason
    assert plan.releases == [] and not plan.applied
    before = versions_and_releases(session)
    with pytest.raises(Invalid) as refusal:
        apply_bundle(session, olivia, BundleRequest.model_validate(body))
    assert [p.field for p in refusal.value.problems] == [f"suites[{index}].spec.cases[0].vars"]
    session.rollback()  # the edge rolls the unit of work back: nothing of the bundle stays
    assert versions_and_releases(session) == before


def test_a_prompt_change_that_breaks_a_suite_the_bundle_does_not_hold_is_refused(session, olivia):
    apply_bundle(session, olivia, goal_coach())
    body = goal_coach().model_dump(mode="json")
    body["suites"] = []  # the suites stay as the server has them
    body["prompts"][0]["template"] += "\nAnswer in {{ answer_language }}.\n"
    plan = plan_bundle(session, olivia, BundleRequest.model_validate(body))
    # said once per suite, with how many cases it fails, not once per case
    assert sorted(p.field for p in plan.problems) == [
        "suite goal-coach-fairness.spec.cases",
        "suite goal-coach-quality.spec.cases",
    ]
    for problem in plan.problems:
        assert re.match(r"\d+ cases \([^)]+, \.\.\.\): ", problem.reason), problem.reason
        assert "'answer_language' is undefined" in problem.reason
    assert plan.releases == []


def test_a_bundle_whose_suites_render_cuts_its_release_as_before(session, olivia):
    plan = plan_bundle(session, olivia, goal_coach())
    assert plan.problems == [] and [(r.product, r.number) for r in plan.releases] == [("goal-coach", 1)]


def test_the_check_stops_at_its_time_budget_and_leaves_the_rest_to_the_runs(session, olivia, monkeypatch):
    # a template may take its sandbox's 10 s per render, and a plan holds a server thread
    from governance.bundles import render_check

    monkeypatch.setattr(render_check, "RENDER_BUDGET_S", 0.0)
    body = goal_coach().model_dump(mode="json")
    misspelt_case(body)
    plan = plan_bundle(session, olivia, BundleRequest.model_validate(body))
    assert plan.problems == [] and [r.number for r in plan.releases] == [1]
