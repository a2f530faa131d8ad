"""Release decisions: every refusal names its rule (403 who, 409 state), waivers, re-runs, policies, manual cuts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from governance.accounts.roles import Role
from governance.kernel.db import utcnow
from governance.runs.models import Run
from tests.factories import auth, make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks


@pytest.fixture
def world(session):
    owner, owner_token = make_user(session, Role.product_owner)
    tokens = {
        "owner": owner_token,
        "admin": make_user(session, Role.admin)[1],
        "rita": make_user(session, Role.reviewer)[1],
        "ravi": make_user(session, Role.reviewer)[1],
        "ci": make_user(session, Role.ci)[1],
        "other_owner": make_user(session, Role.product_owner)[1],
    }
    slug = make_product(session, owner)
    return slug, tokens


async def publish(client, slug, token, *, expect="goal", template="Coach.", cases=2):
    await client.put(f"/products/{slug}/prompts/system", json={"template": template}, headers=auth(token))
    response = await client.put(
        f"/products/{slug}/suites/quality", json={"spec": suite_spec(cases=cases, expect=expect)}, headers=auth(token)
    )
    assert response.status_code in (200, 201), response.text


async def newest(client, slug, token) -> dict:
    items = (await client.get(f"/products/{slug}/releases", headers=auth(token))).json()["items"]
    return (await client.get(f"/releases/{items[0]['id']}", headers=auth(token))).json()


async def test_a_failed_release_needs_a_real_waiver_which_reviewers_see(client, session, world):
    slug, t = world
    await publish(client, slug, t["owner"], expect="this text is not in the answer")
    run_queued_chunks(session)
    release = await newest(client, slug, t["owner"])
    assert release["state"] == "failed" and "pass rate 0%" in release["error"]
    rid = release["id"]
    plain = await client.post(f"/releases/{rid}/signoff", json={"note": "fine"}, headers=auth(t["owner"]))
    assert plain.status_code == 409 and "waiver" in plain.json()["detail"]
    short = await client.post(f"/releases/{rid}/signoff", json={"waiver": "ok"}, headers=auth(t["owner"]))
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "waiver"
    waiver = "The assertion expects wording we removed on purpose; the legal team confirmed the new text."
    signed = await client.post(f"/releases/{rid}/signoff", json={"waiver": waiver}, headers=auth(t["owner"]))
    assert signed.status_code == 200 and signed.json()["state"] == "signed_off"
    seen = (await client.get(f"/releases/{rid}", headers=auth(t["rita"]))).json()
    assert seen["signoffs"][0]["waiver"] == waiver and seen["signoffs"][0]["current"] is True


async def test_every_refusal_says_who_or_which_state(client, session, world):
    slug, t = world
    await publish(client, slug, t["owner"])
    release = await newest(client, slug, t["owner"])
    rid = release["id"]
    assert release["state"] == "testing" and "runs in progress" in release["held_by"]
    early = await client.post(f"/releases/{rid}/signoff", json={"note": "x"}, headers=auth(t["owner"]))
    assert early.status_code == 409 and "testing" in early.json()["detail"]
    run_queued_chunks(session)
    for who in ("rita", "admin", "other_owner", "ci"):
        refused = await client.post(f"/releases/{rid}/signoff", json={"note": "x"}, headers=auth(t[who]))
        assert refused.status_code == 403 and "only the owner" in refused.json()["detail"]
    await client.post(f"/releases/{rid}/signoff", json={"note": "x"}, headers=auth(t["owner"]))
    for who in ("owner", "admin", "ci", "other_owner"):
        refused = await client.post(f"/releases/{rid}/approve", json={"note": "x"}, headers=auth(t[who]))
        assert refused.status_code == 403, who
    not_approved = await client.post(f"/releases/{rid}/go-live", headers=auth(t["owner"]))
    assert not_approved.status_code == 409 and "signed_off" in not_approved.json()["detail"]
    await client.post(f"/releases/{rid}/approve", json={"note": "x"}, headers=auth(t["rita"]))
    await client.post(f"/releases/{rid}/approve", json={"note": "x"}, headers=auth(t["ravi"]))
    reviewer_live = await client.post(f"/releases/{rid}/go-live", headers=auth(t["rita"]))
    assert reviewer_live.status_code == 403
    admin_live = await client.post(f"/releases/{rid}/go-live", headers=auth(t["admin"]))
    assert admin_live.status_code == 200 and admin_live.json()["state"] == "live"
    again = await client.post(f"/releases/{rid}/reject", json={"reason": "late"}, headers=auth(t["rita"]))
    assert again.status_code == 409 and "live" in again.json()["detail"]


async def test_an_author_of_the_change_may_not_approve_it(client, session, world):
    slug, t = world
    _, author = make_user(session, Role.reviewer, Role.admin)
    await publish(client, slug, t["owner"])
    await client.put(
        f"/products/{slug}/prompts/system", json={"template": "Coach, by the author."}, headers=auth(author)
    )
    run_queued_chunks(session)
    rid = (await newest(client, slug, t["owner"]))["id"]
    await client.post(f"/releases/{rid}/signoff", json={"note": "x"}, headers=auth(t["owner"]))
    refused = await client.post(f"/releases/{rid}/approve", json={"note": "mine"}, headers=auth(author))
    assert refused.status_code == 403 and "authored" in refused.json()["detail"]
    assert "prompt system v2" in refused.json()["detail"]


async def test_a_change_supersedes_the_open_release_and_its_decisions(client, session, world):
    slug, t = world
    await publish(client, slug, t["owner"])
    run_queued_chunks(session)
    first = await newest(client, slug, t["owner"])
    await client.post(f"/releases/{first['id']}/signoff", json={"note": "x"}, headers=auth(t["owner"]))
    await client.post(f"/releases/{first['id']}/approve", json={"note": "x"}, headers=auth(t["rita"]))
    await client.put(f"/products/{slug}/prompts/system", json={"template": "Changed."}, headers=auth(t["owner"]))
    old = (await client.get(f"/releases/{first['id']}", headers=auth(t["owner"]))).json()
    assert old["state"] == "superseded" and "superseded by release" in old["held_by"]
    late = await client.post(f"/releases/{first['id']}/approve", json={"note": "x"}, headers=auth(t["ravi"]))
    assert late.status_code == 409 and "superseded" in late.json()["detail"]
    new = await newest(client, slug, t["owner"])
    assert new["state"] == "testing" and new["approvals"] == 0 and new["signoffs"] == []


async def test_rerun_returns_the_release_to_testing_in_a_new_cycle(client, session, world):
    slug, t = world
    await publish(client, slug, t["owner"])
    run_queued_chunks(session)
    release = await newest(client, slug, t["owner"])
    await client.post(f"/releases/{release['id']}/signoff", json={"note": "x"}, headers=auth(t["owner"]))
    run_id = release["runs"][0]["id"]
    refused = await client.post(f"/runs/{run_id}/rerun", headers=auth(t["rita"]))
    assert refused.status_code == 403
    rerun = await client.post(f"/runs/{run_id}/rerun", headers=auth(t["ci"]))
    assert rerun.status_code == 201 and rerun.json()["attempt"] == 2
    again = (await client.get(f"/releases/{release['id']}", headers=auth(t["owner"]))).json()
    assert again["state"] == "testing" and again["cycle"] == 2
    assert [s["current"] for s in again["signoffs"]] == [False]
    run_queued_chunks(session)
    run = (await client.get(f"/runs/{rerun.json()['id']}", params={"limit": 1}, headers=auth(t["owner"]))).json()
    assert run["state"] == "passed" and len(run["cases"]) == 1 and run["next"]
    assert run["cases"][0]["output"] and run["cases"][0]["assertions"][0]["type"] == "icontains"


async def test_stale_evidence_must_be_rerun_before_approval(client, session, world):
    slug, t = world
    await publish(client, slug, t["owner"])
    run_queued_chunks(session)
    release = await newest(client, slug, t["owner"])
    await client.post(f"/releases/{release['id']}/signoff", json={"note": "x"}, headers=auth(t["owner"]))
    session.execute(update(Run).values(finished_at=utcnow() - timedelta(days=91)))
    stale = await client.post(f"/releases/{release['id']}/approve", json={"note": "x"}, headers=auth(t["rita"]))
    assert stale.status_code == 409 and "90 days" in stale.json()["detail"]


async def test_manual_cut_and_policy_changes(client, session, world):
    slug, t = world
    await publish(client, slug, t["owner"])
    before = await newest(client, slug, t["owner"])
    refused = await client.post(f"/products/{slug}/releases", json={"reason": "x"}, headers=auth(t["rita"]))
    assert refused.status_code == 403
    cut = await client.post(
        f"/products/{slug}/releases", json={"reason": "The provider updated the model."}, headers=auth(t["owner"])
    )
    assert cut.status_code == 201 and cut.json()["cause"]["kind"] == "manual"
    assert cut.json()["number"] == before["number"] + 1
    assert (await client.get(f"/releases/{before['id']}", headers=auth(t["owner"]))).json()["state"] == "superseded"

    policies = (await client.get("/policies", headers=auth(t["rita"]))).json()
    assert [(p["risk_tier"], p["required_approvals"]) for p in policies] == [
        ("minimal", 1),
        ("limited", 1),
        ("high", 2),
    ]
    for who in ("owner", "rita", "ci"):
        denied = await client.patch("/policies/high", json={"required_approvals": 3}, headers=auth(t[who]))
        assert denied.status_code == 403
    changed = await client.patch("/policies/high", json={"required_approvals": 3}, headers=auth(t["admin"]))
    assert changed.status_code == 200 and changed.json()["required_approvals"] == 3
    invalid = await client.patch("/policies/high", json={"min_pass_rate": 2}, headers=auth(t["admin"]))
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "min_pass_rate"


async def test_impact_lists_direct_and_process_paths(client, session, world):
    slug, t = world
    doc = {"title": "Policy", "content": "v1"}
    await client.put("/documents/pm-policy", json=doc, headers=auth(t["other_owner"]))
    await client.put(
        "/processes/goal-setting",
        json={"name": "Goal setting", "steps": [{"name": "Draft"}], "documents": ["pm-policy"]},
        headers=auth(t["other_owner"]),
    )
    await client.put(
        f"/products/{slug}/links",
        json={"documents": ["pm-policy"], "processes": ["goal-setting"]},
        headers=auth(t["owner"]),
    )
    impact = (await client.get("/impact", params={"document": "pm-policy"}, headers=auth(t["rita"]))).json()
    assert impact["products"] == [
        {"product": slug, "paths": [[slug, "document:pm-policy"], [slug, "process:goal-setting", "document:pm-policy"]]}
    ]
    by_process = (await client.get("/impact", params={"process": "goal-setting"}, headers=auth(t["rita"]))).json()
    assert by_process["products"][0]["paths"] == [[slug, "process:goal-setting"]]
    neither = await client.get("/impact", headers=auth(t["rita"]))
    assert neither.status_code == 422
    unknown = await client.get("/impact", params={"document": "nope-doc"}, headers=auth(t["rita"]))
    assert unknown.status_code == 404
    # The field blamed is the parameter the slug came in, not a `slug` the request never had.
    assert unknown.json()["errors"] == [{"field": "document", "reason": "no document with slug 'nope-doc'"}]
    unknown = await client.get("/impact", params={"process": "nope-process"}, headers=auth(t["rita"]))
    assert unknown.json()["errors"][0]["field"] == "process"
