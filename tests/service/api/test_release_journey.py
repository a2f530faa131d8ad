"""The reference product's journey through the HTTP API: a policy change, re-testing, sign-off, four eyes, live."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import auth, make_user
from tests.inline_worker import run_queued_chunks

POLICY = "performance-management-policy"


@pytest.fixture
def people(session):
    users = {
        "olivia": make_user(session, Role.product_owner, name="olivia"),
        "paula": make_user(session, Role.product_owner, name="paula"),
        "rita": make_user(session, Role.reviewer, name="rita"),
        "ravi": make_user(session, Role.reviewer, name="ravi"),
        "ada": make_user(session, Role.admin, name="ada"),
    }
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users["olivia"][0], shared_actor=users["paula"][0])
    session.flush()
    return {name: token for name, (_, token) in users.items()}


async def latest_release(client, token) -> dict:
    items = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"]
    return (await client.get(f"/releases/{items[0]['id']}", headers=auth(token))).json()


async def take_live(client, session, people) -> dict:
    run_queued_chunks(session)
    release = await latest_release(client, people["olivia"])
    assert release["state"] == "passed", (release["error"], release["runs"][0]["summary"])
    rid = release["id"]
    signed = await client.post(
        f"/releases/{rid}/signoff", json={"note": "Read the runs."}, headers=auth(people["olivia"])
    )
    assert signed.status_code == 200, signed.text
    for reviewer in ("rita", "ravi"):
        approved = await client.post(f"/releases/{rid}/approve", json={"note": "ok"}, headers=auth(people[reviewer]))
        assert approved.status_code == 200, approved.text
    live = await client.post(f"/releases/{rid}/go-live", headers=auth(people["olivia"]))
    assert live.status_code == 200, live.text
    return live.json()


async def test_policy_change_to_compliant_again(client, session, people):
    first = await take_live(client, session, people)
    assert first["state"] == "live"
    product = (await client.get("/products/goal-coach", headers=auth(people["olivia"]))).json()
    assert product["status"] == "compliant" and product["live_release"] == first["id"]

    impact = await client.get("/impact", params={"document": POLICY}, headers=auth(people["paula"]))
    assert impact.json()["products"] == [
        {"product": "goal-coach", "paths": [["goal-coach", "process:goal-setting", f"document:{POLICY}"]]}
    ]

    policy_text = (await client.get(f"/documents/{POLICY}", headers=auth(people["paula"]))).json()["content"]
    changed = {
        **policy_text,
        "content": policy_text["content"] + "\n\n14. Goals may be revised at mid-year.\n",
        "message": "Allow mid-year revisions",
    }
    published = await client.put(f"/documents/{POLICY}", json=changed, headers=auth(people["paula"]))
    assert published.status_code == 201

    release = await latest_release(client, people["olivia"])
    assert release["state"] == "testing" and release["cause"]["kind"] == "document"
    assert [c for c in release["changes"] if c["kind"] == "document"] == [
        {"kind": "document", "name": POLICY, "change": "changed", "from_version": 1, "to_version": 2}
    ]
    product = (await client.get("/products/goal-coach", headers=auth(people["olivia"]))).json()
    assert product["status"] == "revalidation_required" and product["revalidation_due_at"]

    run_queued_chunks(session)
    release = await latest_release(client, people["olivia"])
    assert release["state"] == "passed", release["held_by"]
    assert all(run["state"] == "passed" and run["offline"] for run in release["runs"])
    rid = release["id"]

    too_early = await client.post(f"/releases/{rid}/approve", json={"note": "x"}, headers=auth(people["rita"]))
    assert too_early.status_code == 409 and "passed" in too_early.json()["detail"]
    not_owner = await client.post(f"/releases/{rid}/signoff", json={"note": "x"}, headers=auth(people["rita"]))
    assert not_owner.status_code == 403
    signed = await client.post(
        f"/releases/{rid}/signoff", json={"note": "Policy clause is reflected."}, headers=auth(people["olivia"])
    )
    assert signed.json()["state"] == "signed_off"

    own = await client.post(f"/releases/{rid}/approve", json={"note": "mine"}, headers=auth(people["olivia"]))
    assert own.status_code == 403 and "reviewer" in own.json()["detail"]
    one = await client.post(f"/releases/{rid}/approve", json={"note": "ok"}, headers=auth(people["rita"]))
    assert one.json()["state"] == "signed_off" and one.json()["approvals"] == 1
    assert "1 of 2" in one.json()["held_by"]
    twice = await client.post(f"/releases/{rid}/approve", json={"note": "again"}, headers=auth(people["rita"]))
    assert twice.status_code == 409
    two = await client.post(f"/releases/{rid}/approve", json={"note": "ok"}, headers=auth(people["ravi"]))
    assert two.json()["state"] == "approved"
    live = await client.post(f"/releases/{rid}/go-live", headers=auth(people["olivia"]))
    assert live.json()["state"] == "live"
    previous = (await client.get(f"/releases/{first['id']}", headers=auth(people["olivia"]))).json()
    assert previous["state"] == "retired"
    product = (await client.get("/products/goal-coach", headers=auth(people["olivia"]))).json()
    assert product["status"] == "compliant"

    changed["content"] += "\n15. Another clause.\n"
    await client.put(f"/documents/{POLICY}", json=changed, headers=auth(people["paula"]))
    product = (await client.get("/products/goal-coach", headers=auth(people["olivia"]))).json()
    assert product["status"] == "revalidation_required"
    verified = (await client.get("/audit/verify", headers=auth(people["ada"]))).json()
    assert verified["ok"] is True
