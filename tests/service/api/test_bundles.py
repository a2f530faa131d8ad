"""POST /bundles/plan and /bundles/apply: one request, one transaction, problems naming the item and field."""

from __future__ import annotations

from governance.accounts.roles import Role
from service.bundle import bundle_request, load_bundle
from service.settings import PROJECT_ROOT
from tests.factories import auth, make_user

GOAL_COACH = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"


def goal_coach() -> dict:
    return bundle_request(load_bundle(GOAL_COACH))


async def test_a_refused_apply_leaves_nothing_behind(client, session):
    _, olivia = make_user(session, Role.product_owner, name="olivia")
    body = goal_coach()
    body["suites"], body["links"] = [], None
    body["processes"][0]["documents"].append("no-such-policy")  # the third of five items
    refused = await client.post("/bundles/apply", json=body, headers=auth(olivia))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == [
        {"field": "processes[0].documents[1]", "reason": "no document with slug 'no-such-policy'"}
    ]
    assert (await client.get("/products/goal-coach", headers=auth(olivia))).status_code == 404
    assert (await client.get("/documents/smart-goals-guide", headers=auth(olivia))).status_code == 404
    assert (await client.get("/audit", headers=auth(olivia))).json()["items"][0]["action"] == "user.created"


async def test_plan_then_apply_then_a_conflict_named_in_a_409(client, session):
    _, olivia = make_user(session, Role.product_owner, name="olivia")
    plan = await client.post("/bundles/plan", json=goal_coach(), headers=auth(olivia))
    assert plan.status_code == 200, plan.text
    assert plan.json()["applied"] is False and plan.json()["releases"][0]["number"] == 1
    assert (await client.get("/products/goal-coach", headers=auth(olivia))).status_code == 404
    applied = await client.post("/bundles/apply", json=goal_coach(), headers=auth(olivia))
    assert applied.status_code == 200 and applied.json()["applied"] is True
    guide = (await client.get("/documents/smart-goals-guide", headers=auth(olivia))).json()["content"]
    edited = {**guide, "content": guide["content"] + "\nEdited in the web app.\n"}
    assert (await client.put("/documents/smart-goals-guide", json=edited, headers=auth(olivia))).status_code == 201
    conflict = await client.post("/bundles/apply", json=goal_coach(), headers=auth(olivia))
    assert conflict.status_code == 409, conflict.text
    assert [e["field"] for e in conflict.json()["errors"]] == ["documents[0]"]
    assert "outside the bundle" in conflict.json()["errors"][0]["reason"]


async def test_a_malformed_bundle_names_the_item_and_the_field(client, session):
    _, olivia = make_user(session, Role.product_owner)
    body = goal_coach()
    body["documents"][1]["colour"] = "blue"
    body["prompts"][0]["name"] = "Not A Name"
    response = await client.post("/bundles/plan", json=body, headers=auth(olivia))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"documents[1].colour", "prompts[0].name"}
