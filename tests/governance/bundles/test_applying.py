"""Bundles as one change: plan equals apply, all or nothing, one release per product, conflicts and force."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from governance.accounts.roles import Role
from governance.audit.reading import export_events
from governance.bundles.applying import apply_bundle, plan_bundle
from governance.bundles.models import AppliedComponent
from governance.bundles.schemas import BundleRequest
from governance.catalog import components
from governance.catalog.models import ComponentVersion, Product
from governance.catalog.schemas import DocumentPublish
from governance.kernel.errors import Conflict, Forbidden, Invalid
from governance.releases.models import Release
from service.bundle import bundle_request, load_bundle
from service.settings import PROJECT_ROOT
from tests.factories import make_user

GOAL_COACH = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"


def goal_coach(**changes) -> BundleRequest:
    body = bundle_request(load_bundle(GOAL_COACH))
    body.update(changes)
    return BundleRequest.model_validate(body)


def with_policy(request: BundleRequest, extra: str) -> BundleRequest:
    body = request.model_dump(mode="json")
    policy = next(d for d in body["documents"] if d["slug"] == "performance-management-policy")
    policy["content"] += extra
    return BundleRequest.model_validate(body)


@pytest.fixture
def people(session):
    return {
        "olivia": make_user(session, Role.product_owner, name="olivia")[0],
        "paula": make_user(session, Role.product_owner, name="paula")[0],
        "ci": make_user(session, Role.ci, name="ci-bot")[0],
        "rita": make_user(session, Role.reviewer, name="rita")[0],
    }


def counts(session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Product)),
        session.scalar(select(func.count()).select_from(ComponentVersion)),
        session.scalar(select(func.count()).select_from(Release)),
        session.scalar(select(func.count()).select_from(AppliedComponent)),
    )


def test_registering_a_new_product_cuts_exactly_one_release_with_its_suites(session, people):
    plan = apply_bundle(session, people["olivia"], goal_coach())
    assert plan.applied and plan.problems == []
    assert {i.action for i in plan.items} == {"create"}
    releases = session.scalars(select(Release)).all()
    assert len(releases) == 1
    assert releases[0].state == "testing" and releases[0].error is None
    assert list(releases[0].manifest["suites"]) == ["goal-coach-fairness", "goal-coach-quality"]
    assert [(r.product, r.number, r.suites) for r in plan.releases] == [
        ("goal-coach", 1, ["goal-coach-fairness", "goal-coach-quality"])
    ]
    again = apply_bundle(session, people["olivia"], goal_coach())
    assert {i.action for i in again.items} == {"unchanged"} and again.releases == []
    assert len(session.scalars(select(Release)).all()) == 1


def test_a_plan_says_what_apply_does_and_writes_nothing(session, people):
    before = counts(session)
    plan = plan_bundle(session, people["olivia"], goal_coach())
    assert not plan.applied and plan.problems == []
    assert counts(session) == before
    assert [(r.product, r.number) for r in plan.releases] == [("goal-coach", 1)]
    applied = apply_bundle(session, people["olivia"], goal_coach())
    assert [(i.field, i.action, i.version) for i in applied.items] == [
        (i.field, i.action, i.version) for i in plan.items
    ]
    assert applied.releases == plan.releases


def test_a_plan_lists_every_permission_error_and_writes_nothing(session, people):
    apply_bundle(session, people["olivia"], goal_coach())
    before, trail = counts(session), len(list(export_events(session)))
    # The reviewer may change neither the shared policy nor the product's prompt or model.
    changed = with_policy(goal_coach(), "\n14. A clause.\n").model_dump(mode="json")
    changed["prompts"][0]["template"] += "\nBe brief.\n"
    changed["product"]["model"]["temperature"] = 0.5
    plan = plan_bundle(session, people["rita"], BundleRequest.model_validate(changed))
    refused = {(p.field, p.status) for p in plan.problems}
    assert refused == {("documents[1]", 403), ("product", 403), ("prompts[0]", 403)}
    assert any("paula" in p.reason or "olivia" in p.reason for p in plan.problems)
    assert plan.releases == [] and not plan.applied
    assert counts(session) == before and len(list(export_events(session))) == trail
    with pytest.raises(Forbidden) as refusal:
        apply_bundle(session, people["rita"], BundleRequest.model_validate(changed))
    assert {p.field for p in refusal.value.problems} == {"documents[1]", "product", "prompts[0]"}


def five_items_the_third_failing() -> BundleRequest:
    """documents[0], documents[1], processes[0] (naming a document nobody published), product, prompts[0]."""
    body = goal_coach().model_dump(mode="json")
    body["suites"], body["links"] = [], None
    body["processes"][0]["documents"].append("no-such-policy")
    return BundleRequest.model_validate(body)


def test_apply_is_all_or_nothing_when_the_third_of_five_items_fails(session, people):
    plan = plan_bundle(session, people["olivia"], five_items_the_third_failing())
    assert [i.action for i in plan.items] == ["create", "create", "refused", "create", "create"]
    before = counts(session)
    with pytest.raises(Invalid) as refusal:
        apply_bundle(session, people["olivia"], five_items_the_third_failing())
    assert [p.field for p in refusal.value.problems] == ["processes[0].documents[1]"]
    assert "no-such-policy" in refusal.value.problems[0].reason
    assert counts(session) != before  # the first two and the last two were written in the unit of work...
    session.rollback()  # ...which the edge rolls back as a whole (the API test checks what is left: nothing)


def test_apply_after_an_api_edit_refuses_with_the_conflict_and_its_diff(session, people):
    apply_bundle(
        session, people["paula"], goal_coach(product={**goal_coach().product.model_dump(mode="json"), "owner": None})
    )
    policy = components.find_shared(session, components.ComponentKind.document, "performance-management-policy")
    head = components.head_version(session, policy)
    components.publish_document(
        session,
        people["paula"],
        "performance-management-policy",
        DocumentPublish(**{**head.content, "content": head.content["content"] + "\n14. Mid-year revisions.\n"}),
    )
    plan = plan_bundle(session, people["paula"], goal_coach())
    conflict = next(i for i in plan.items if i.name == "performance-management-policy")
    assert conflict.action == "conflict" and conflict.head == 2 and conflict.head_author == "paula"
    assert "-14. Mid-year revisions." in conflict.diff
    assert [(p.field, p.status) for p in plan.problems] == [("documents[1]", 409)]
    with pytest.raises(Conflict) as refusal:
        apply_bundle(session, people["paula"], goal_coach())
    assert "documents[1]" in str(refusal.value) and "outside the bundle" in str(refusal.value)


def test_force_overwrites_and_the_audit_trail_names_the_version_and_who(session, people):
    apply_bundle(
        session, people["paula"], goal_coach(product={**goal_coach().product.model_dump(mode="json"), "owner": None})
    )
    policy = components.find_shared(session, components.ComponentKind.document, "performance-management-policy")
    head = components.head_version(session, policy)
    components.publish_document(
        session,
        people["paula"],
        "performance-management-policy",
        DocumentPublish(**{**head.content, "content": "Replaced through the API."}),
    )
    plan = apply_bundle(session, people["paula"], goal_coach(force=True))
    overwritten = next(i for i in plan.items if i.name == "performance-management-policy")
    assert (overwritten.action, overwritten.head, overwritten.version) == ("overwrite", 2, 3)
    event = next(e for e in list(export_events(session)) if e["action"] == "document.overwritten")
    assert event["actor"] == "paula" and event["before"]["version"] == 2 and event["after"]["version"] == 3
    # The overwrite is now what the bundle last applied: the next apply is calm.
    assert plan_bundle(session, people["paula"], goal_coach()).problems == []


def test_expect_head_pins_what_ci_reviewed(session, people):
    apply_bundle(session, people["olivia"], goal_coach())
    body = goal_coach().model_dump(mode="json")
    body["prompts"][0]["template"] += "\nBe brief.\n"
    body["prompts"][0]["expect_head"] = "0000000"
    plan = plan_bundle(session, people["ci"], BundleRequest.model_validate(body))
    assert [(p.field, p.status) for p in plan.problems] == [("prompts[0]", 409)]
    system = next(i for i in plan.items if i.name == "system")
    body["prompts"][0]["expect_head"] = system.head_sha256[:12]
    applied = apply_bundle(session, people["ci"], BundleRequest.model_validate(body))
    assert next(i for i in applied.items if i.name == "system").action == "update"


def test_a_ci_token_applies_a_prompt_change_but_is_refused_a_model_change_up_front(session, people):
    apply_bundle(session, people["olivia"], goal_coach())
    body = goal_coach().model_dump(mode="json")
    body["prompts"][0]["template"] += "\nBe brief.\n"
    assert apply_bundle(session, people["ci"], BundleRequest.model_validate(body)).releases[0].number == 2
    body["product"]["model"]["name"] = "goal-coach-offline-2"
    plan = plan_bundle(session, people["ci"], BundleRequest.model_validate(body))
    assert [(p.field, p.status) for p in plan.problems] == [("product", 403)]


def test_a_shared_document_in_two_bundles_is_each_bundles_own_to_track(session, people):
    apply_bundle(
        session, people["paula"], goal_coach(product={**goal_coach().product.model_dump(mode="json"), "owner": None})
    )
    other = goal_coach().model_dump(mode="json")
    other["product"] = {**other["product"], "slug": "review-helper", "owner": None}
    other["prompts"], other["suites"] = [], []
    apply_bundle(session, people["paula"], BundleRequest.model_validate(other))
    # The first bundle changes the policy; the second, applying its older copy, must not silently undo it.
    apply_bundle(session, people["paula"], with_policy(goal_coach(), "\n14. A clause.\n"))
    plan = plan_bundle(session, people["paula"], BundleRequest.model_validate(other))
    assert [(p.field, p.status) for p in plan.problems] == [("documents[1]", 409)]
