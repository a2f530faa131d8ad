"""Compliance through the HTTP API: the goal coach's classification and obligations, re-classifying a product,
the risk tier floor, evidence, overseers who may suspend, and the document lint."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import auth, make_user
from tests.inline_worker import run_queued_chunks

SCREENING = {"uses": ["candidate_screening"]}


@pytest.fixture
def people(session):
    users = {
        "olivia": make_user(session, Role.product_owner, name="olivia"),
        "paula": make_user(session, Role.product_owner, name="paula"),
        "rita": make_user(session, Role.reviewer, name="rita"),
        "ravi": make_user(session, Role.reviewer, name="ravi"),
        "ada": make_user(session, Role.admin, name="ada"),
        "hana": make_user(session, Role.product_owner, name="hana"),
    }
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users["olivia"][0], shared_actor=users["paula"][0])
    session.flush()
    return {name: token for name, (_, token) in users.items()}


async def newest_release(client, token) -> dict:
    items = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"]
    return (await client.get(f"/releases/{items[0]['id']}", headers=auth(token))).json()


async def approve(client, session, people) -> int:
    run_queued_chunks(session)
    release = await newest_release(client, people["olivia"])
    assert release["state"] == "passed", release["error"]
    rid = release["id"]
    assert (await client.post(f"/releases/{rid}/signoff", json={}, headers=auth(people["olivia"]))).status_code == 200
    for reviewer in ("rita", "ravi"):
        approved = await client.post(f"/releases/{rid}/approve", json={"note": "ok"}, headers=auth(people[reviewer]))
        assert approved.status_code == 200, approved.text
    return rid


async def test_goal_coach_is_classified_with_its_reasoning_and_its_obligations_met(client, people):
    got = await client.get("/products/goal-coach/classification", headers=auth(people["rita"]))
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["classification"], body["rule"], body["minimum_tier"], body["risk_tier"]) == (
        "not_high_risk",
        "annex_iii_derogation",
        "limited",
        "high",
    )
    assert [r["reference"] for r in body["rationale"]] == [
        "Art. 6(2), Annex III point 4(b)",
        "Art. 6(3)(d)",
        "Art. 6(4)",
    ]
    assert body["version"] == 1 and body["declared_use"]["preparatory_task"] is True and not body["aedt"]
    obligations = (await client.get("/products/goal-coach/obligations", headers=auth(people["rita"]))).json()
    assert [(o["obligation"], o["status"]) for o in obligations["obligations"]] == [
        ("dpia", "met"),
        ("derogation_assessment", "met"),
    ]
    assert obligations["blocking"] == []
    assert (await client.get("/products/goal-coach", headers=auth(people["rita"]))).json()["declared_use"]["uses"] == [
        "drafting_help",
        "performance_monitoring",
        "policy_questions",
    ]


async def test_a_high_risk_use_cuts_a_release_that_cannot_go_live_until_its_obligations_are_met(
    client, session, people
):
    first = await approve(client, session, people)
    assert (await client.post(f"/releases/{first}/go-live", headers=auth(people["olivia"]))).status_code == 200

    changed = await client.patch(
        "/products/goal-coach", json={"declared_use": SCREENING}, headers=auth(people["olivia"])
    )
    assert changed.status_code == 200, changed.text
    release = await newest_release(client, people["olivia"])
    assert release["id"] != first and release["cause"]["kind"] == "classification"
    assert release["cause"]["after"]["classification"] == "high_risk"
    classification = (await client.get("/products/goal-coach/classification", headers=auth(people["olivia"]))).json()
    assert classification["version"] == 2 and classification["rule"] == "annex_iii_high_risk"

    rid = await approve(client, session, people)
    refused = await client.post(f"/releases/{rid}/go-live", headers=auth(people["olivia"]))
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["errors"][0]["field"] == "obligations"
    assert "inform_workers (Art. 26(7))" in problem["detail"]
    # Art. 10(2)(f) is met already: the reference product ships its own fairness suite
    assert "fairness_suite" not in problem["detail"]

    evidence = {
        "inform_workers": {"informed_on": "2026-01-10", "channel": "works council", "audience": "all staff"},
        "human_oversight": {"overseers": ["hana"], "competence": "Trained HR business partner."},
        "instructions_for_use": {"document": "smart-goals-guide"},
    }
    for obligation, details in evidence.items():
        put = await client.put(
            f"/products/goal-coach/obligations/{obligation}", json=details, headers=auth(people["olivia"])
        )
        assert put.status_code == 200, put.text
    view = (await client.get(f"/releases/{rid}/obligations", headers=auth(people["rita"]))).json()
    assert [o["obligation"] for o in view["obligations"] if o["status"] != "met"] == []
    fairness = next(o for o in view["obligations"] if o["obligation"] == "fairness_suite")
    assert fairness["reason"] == "required fairness suite: goal-coach-fairness"
    product = (await client.get("/products/goal-coach/obligations", headers=auth(people["olivia"]))).json()
    assert [o["status"] for o in product["obligations"]] == ["met"] * 5 and product["blocking"] == []

    # hana is a named overseer: she may stop the product though she neither owns nor reviews it.
    stopped = await client.post(
        "/products/goal-coach/suspend", json={"reason": "Overseer stops it for a check."}, headers=auth(people["hana"])
    )
    assert stopped.status_code in (200, 201), stopped.text
    other = await client.post(
        "/products/goal-coach/suspend", json={"reason": "Not an overseer at all here."}, headers=auth(people["paula"])
    )
    assert other.status_code == 403


async def test_a_prohibited_use_never_goes_live(client, session, people):
    changed = await client.patch(
        "/products/goal-coach", json={"declared_use": {"uses": ["emotion_recognition"]}}, headers=auth(people["olivia"])
    )
    assert changed.status_code == 200, changed.text
    rid = await approve(client, session, people)
    refused = await client.post(f"/releases/{rid}/go-live", headers=auth(people["ada"]))
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "declared_use" and "Art. 5(1)(f)" in refused.json()["detail"]


async def test_the_risk_tier_is_never_below_the_computed_one_without_an_admins_justification(client, session, people):
    high = await client.patch("/products/goal-coach", json={"declared_use": SCREENING}, headers=auth(people["olivia"]))
    assert high.status_code == 200
    lowered = await client.patch("/products/goal-coach", json={"risk_tier": "limited"}, headers=auth(people["olivia"]))
    assert lowered.status_code == 422 and lowered.json()["errors"][0]["field"] == "risk_tier"
    justified = {"risk_tier": "limited", "risk_tier_justification": "Screening is a pilot with no effect on hiring."}
    owner = await client.patch("/products/goal-coach", json=justified, headers=auth(people["olivia"]))
    assert owner.status_code == 403
    product = (await client.get("/products/goal-coach", headers=auth(people["olivia"]))).json()
    assert product["risk_tier"] == "high"  # nothing half-written
    admin = await client.patch("/products/goal-coach", json=justified, headers=auth(people["ada"]))
    assert admin.status_code == 200, admin.text
    classification = (await client.get("/products/goal-coach/classification", headers=auth(people["ada"]))).json()
    assert (
        classification["risk_tier"] == "limited"
        and classification["tier_justification"] == justified["risk_tier_justification"]
    )
    trail = (await client.get("/audit", params={"product": "goal-coach"}, headers=auth(people["ada"]))).json()
    overridden = [e for e in trail["items"] if e["action"] == "product.risk_tier_overridden"]
    assert overridden and overridden[0]["reason"] == justified["risk_tier_justification"]


async def test_evidence_is_validated_field_by_field(client, people):
    headers = auth(people["olivia"])
    unknown = await client.put("/products/goal-coach/obligations/horoscope", json={}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "obligation"
    bad = await client.put("/products/goal-coach/obligations/dpia", json={"reference": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "evidence.completed_on"
    nobody = await client.put(
        "/products/goal-coach/obligations/human_oversight",
        json={"overseers": ["hana", "nobody-here"], "competence": "x"},
        headers=headers,
    )
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "evidence.overseers[1]"
    future = await client.put(
        "/products/goal-coach/obligations/dpia",
        json={"reference": "D-1", "completed_on": "2999-01-01"},
        headers=headers,
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "evidence.completed_on"
    release_read = await client.put("/products/goal-coach/obligations/fairness_suite", json={}, headers=headers)
    assert release_read.status_code == 422
    reviewer = await client.put(
        "/products/goal-coach/obligations/dpia",
        json={"reference": "D-1", "completed_on": "2026-01-01"},
        headers=auth(people["rita"]),
    )
    assert reviewer.status_code == 403


async def test_a_policy_document_with_an_employees_health_detail_is_flagged(client, session, people):
    text = "# Absence\n\nReport absence on day one.\nExample: Jan Novak is off after a cancer diagnosis.\n"
    put = await client.put(
        "/documents/absence-policy",
        json={"title": "Absence policy", "content": text, "message": "first"},
        headers=auth(people["paula"]),
    )
    assert put.status_code == 201, put.text
    found = (await client.get("/documents/absence-policy/versions/1/findings", headers=auth(people["rita"]))).json()
    assert found["scanned"] and {(f["line"], f["category"]) for f in found["findings"]} == {
        (4, "health"),
    }
    assert {f["excerpt"].lower() for f in found["findings"]} == {"cancer", "diagnosis"}

    links = {"documents": ["smart-goals-guide", "absence-policy"], "processes": ["goal-setting"]}
    assert (
        await client.put("/products/goal-coach/links", json=links, headers=auth(people["olivia"]))
    ).status_code == 200
    policy = await client.patch("/policies/high", json={"document_lint": "block"}, headers=auth(people["ada"]))
    assert policy.status_code == 200, policy.text
    rid = await approve(client, session, people)
    view = (await client.get(f"/releases/{rid}/obligations", headers=auth(people["rita"]))).json()
    flagged = [d for d in view["documents"] if d["findings"]]
    # The policy's general words on health (section 11) are flagged too: a keyword list cannot tell them apart.
    assert [d["document"] for d in flagged] == ["absence-policy", "performance-management-policy"]
    assert view["document_lint"] == "block"
    refused = await client.post(f"/releases/{rid}/go-live", headers=auth(people["olivia"]))
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "documents"
    assert "absence-policy v1" in refused.json()["detail"] and "health line 4" in refused.json()["detail"]


async def test_unknown_document_version_findings_is_not_found(client, people):
    got = await client.get("/documents/smart-goals-guide/versions/99/findings", headers=auth(people["rita"]))
    assert got.status_code == 404


async def test_an_expiring_bias_audit_reopens_revalidation_once(client, session, people):
    from datetime import timedelta

    from governance.compliance.obligations import reopen_expired
    from governance.kernel.db import utcnow

    aedt = {"uses": ["drafting_help", "performance_monitoring", "policy_questions"], "preparatory_task": True}
    changed = await client.patch(
        "/products/goal-coach", json={"declared_use": {**aedt, "nyc_aedt": True}}, headers=auth(people["olivia"])
    )
    assert changed.status_code == 200, changed.text
    stale = {"audited_on": (utcnow() - timedelta(days=400)).date().isoformat(), "auditor": "Audit LLP"}
    stale["summary_url"] = "https://acme.example/ll144-summary"
    put = await client.put("/products/goal-coach/obligations/bias_audit", json=stale, headers=auth(people["olivia"]))
    assert put.status_code == 200
    assert [o["status"] for o in put.json()["obligations"] if o["obligation"] == "bias_audit"] == ["expired"]
    rid = await approve(client, session, people)
    refused = await client.post(f"/releases/{rid}/go-live", headers=auth(people["olivia"]))
    assert refused.status_code == 409
    assert "bias_audit" in refused.json()["detail"] and "expired" in refused.json()["detail"]

    fresh = {**stale, "audited_on": (utcnow() - timedelta(days=10)).date().isoformat()}
    put = await client.put("/products/goal-coach/obligations/bias_audit", json=fresh, headers=auth(people["olivia"]))
    assert put.status_code == 200
    assert (await client.post(f"/releases/{rid}/go-live", headers=auth(people["olivia"]))).status_code == 200

    assert reopen_expired(session, utcnow() + timedelta(days=300)) == []
    reopened = reopen_expired(session, utcnow() + timedelta(days=360))
    assert len(reopened) == 1 and reopened[0].cause["kind"] == "obligation_expired"
    assert reopened[0].cause["name"] == "bias_audit"
    assert reopen_expired(session, utcnow() + timedelta(days=361)) == []
    product = (await client.get("/products/goal-coach", headers=auth(people["olivia"]))).json()
    assert product["status"] == "revalidation_required"


async def publish_guide(client, people, edit) -> None:
    guide = (await client.get("/documents/smart-goals-guide", headers=auth(people["paula"]))).json()["content"]
    body = {**guide, "content": edit(guide["content"]), "message": "wording"}
    assert (
        await client.put("/documents/smart-goals-guide", json=body, headers=auth(people["paula"]))
    ).status_code == 201


async def test_an_editorial_change_carries_over_sign_off_and_approvals_when_the_policy_allows(client, session, people):
    first = await approve(client, session, people)
    assert (await client.post(f"/releases/{first}/go-live", headers=auth(people["olivia"]))).status_code == 200
    allow = await client.patch("/policies/high", json={"editorial_carry_over": True}, headers=auth(people["ada"]))
    assert allow.status_code == 200 and allow.json()["editorial_carry_over"] is True

    await publish_guide(client, people, lambda text: text.replace("\n\n", "\n\n\n", 1) + "\n")
    run_queued_chunks(session)
    editorial = await newest_release(client, people["olivia"])
    assert editorial["state"] == "approved", editorial["held_by"]
    trail = (await client.get("/audit", params={"product": "goal-coach"}, headers=auth(people["ada"]))).json()
    carried = [e for e in trail["items"] if e["action"] == "release.carried_over"]
    assert len(carried) == 1 and "whitespace and punctuation" in carried[0]["after"]["rule"]
    assert "smart-goals-guide@v1" in carried[0]["after"]["diff"]
    assert sorted(carried[0]["before"]["approved_by"]) == ["ravi", "rita"]
    live = await client.post(f"/releases/{editorial['id']}/go-live", headers=auth(people["olivia"]))
    assert live.status_code == 200, live.text

    await publish_guide(client, people, lambda text: text + "\nGoals are reviewed monthly.\n")
    run_queued_chunks(session)
    substantial = await newest_release(client, people["olivia"])
    assert substantial["state"] == "passed"  # a word changed: sign-off and four eyes again


async def test_an_editorial_change_is_not_carried_over_by_default(client, session, people):
    first = await approve(client, session, people)
    assert (await client.post(f"/releases/{first}/go-live", headers=auth(people["olivia"]))).status_code == 200
    await publish_guide(client, people, lambda text: text + "\n")
    run_queued_chunks(session)
    assert (await newest_release(client, people["olivia"]))["state"] == "passed"


async def test_steward_yaml_carries_the_declared_use_and_a_changed_one_reclassifies(client, session, people):
    from service.bundle import bundle_request

    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    body = bundle_request(bundle)
    same = await client.post("/bundles/plan", json=body, headers=auth(people["olivia"]))
    assert same.status_code == 200, same.text
    assert [i["action"] for i in same.json()["items"] if i["kind"] == "product"] == ["unchanged"]

    body["product"]["declared_use"] = SCREENING
    applied = await client.post("/bundles/apply", json=body, headers=auth(people["olivia"]))
    assert applied.status_code == 200, applied.text
    product_item = next(i for i in applied.json()["items"] if i["kind"] == "product")
    assert product_item["action"] == "update" and "declared_use" in product_item["summary"]
    classification = (await client.get("/products/goal-coach/classification", headers=auth(people["olivia"]))).json()
    assert classification["classification"] == "high_risk" and classification["version"] == 2
    release = await newest_release(client, people["olivia"])
    assert release["cause"]["kind"] == "classification"


async def test_registering_below_the_computed_tier_is_refused_and_nothing_is_written(client, people):
    from tests.factories import product_payload

    payload = product_payload("screener", risk_tier="minimal", declared_use=SCREENING)
    refused = await client.post("/products", json=payload, headers=auth(people["olivia"]))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "risk_tier"
    assert "'minimal' is below 'high'" in refused.json()["detail"]
    assert (await client.get("/products/screener", headers=auth(people["olivia"]))).status_code == 404
    created = await client.post("/products", json={**payload, "risk_tier": "high"}, headers=auth(people["olivia"]))
    assert created.status_code == 201, created.text
    classification = (await client.get("/products/screener/classification", headers=auth(people["olivia"]))).json()
    assert classification["classification"] == "high_risk" and classification["version"] == 1
