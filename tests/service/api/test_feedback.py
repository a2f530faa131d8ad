"""Feedback, KPIs, alerts, promotion, incidents and re-certification over HTTP."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from governance.accounts.users import issue_token
from tests.factories import auth, make_user
from tests.live_products import live_product


@pytest.fixture
def live(session):
    owner, slug, release = live_product(session)
    session.flush()
    return {"slug": slug, "release": release.number, "owner": issue_token(session, owner)}


async def test_feedback_with_an_email_address_is_stored_redacted(client, session, live):
    slug, token = live["slug"], live["owner"]
    body = {
        "release": live["release"],
        "thumbs": "down",
        "human_action": "overrode",
        "comment": "Wrong advice; reach me at sam.lee@example.org",
        "input": "Call me on +44 20 7946 0958",
        "output": "ok",
    }
    response = await client.post(f"/products/{slug}/feedback", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1 and response.json()["redactions"] == 2
    [item] = (await client.get(f"/products/{slug}/feedback", headers=auth(token))).json()["items"]
    assert item["comment"] == "Wrong advice; reach me at [email]" and item["input"] == "Call me on [phone]"
    assert item["human_action"] == "overrode" and item["score"] == 0.0
    assert (await client.post(f"/products/{slug}/feedback", json=body)).status_code == 401


async def test_a_bad_batch_names_the_item_and_stores_nothing(client, live):
    slug, token = live["slug"], live["owner"]
    items = [{"release": live["release"], "stars": 4}, {"release": live["release"] + 7, "stars": 2}]
    response = await client.post(f"/products/{slug}/feedback/batch", json={"items": items}, headers=auth(token))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items[1].release"]
    assert (await client.get(f"/products/{slug}/feedback", headers=auth(token))).json()["items"] == []
    too_long = {"release": live["release"], "comment": "x" * 4001}
    response = await client.post(f"/products/{slug}/feedback", json=too_long, headers=auth(token))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "comment"
    ok = await client.post(f"/products/{slug}/feedback/batch", json={"items": items[:1] * 3}, headers=auth(token))
    assert ok.status_code == 201 and ok.json()["accepted"] == 3


async def test_kpis_and_a_crossed_limit_with_its_alert(client, session, live):
    slug, token, number = live["slug"], live["owner"], live["release"]
    items = [{"release": number, "human_action": "overrode", "thumbs": "down"}] * 3 + [
        {"release": number, "human_action": "accepted", "thumbs": "up", "comment": "fine"}
    ] * 7
    assert (
        await client.post(f"/products/{slug}/feedback/batch", json={"items": items}, headers=auth(token))
    ).is_success
    kpis = (await client.get(f"/products/{slug}/kpis", headers=auth(token))).json()
    assert kpis["current"]["release"] == number and kpis["previous"] is None
    assert kpis["current"]["kpis"] == {
        "volume": 10,
        "satisfaction": 0.7,
        "rated": 10,
        "override_rate": 0.3,
        "judged": 10,
        "comments": 7,
    }
    assert len(kpis["days"]) == 30 and len(kpis["comments"]) == 7
    [alert] = (await client.get(f"/products/{slug}/alerts", headers=auth(token))).json()
    assert alert["kpi"] == "override_rate" and alert["value"] == 0.3 and alert["acknowledged_at"] is None
    reviewer = make_user(session, Role.reviewer)[1]
    path = f"/products/{slug}/alerts/{alert['id']}/acknowledge"
    assert (await client.post(path, json={"note": "x"}, headers=auth(reviewer))).status_code == 403
    done = await client.post(path, json={"note": "Reworded the prompt."}, headers=auth(token))
    assert done.status_code == 200 and done.json()["acknowledged_by"]


async def test_promoting_feedback_cuts_a_release(client, live):
    slug, token = live["slug"], live["owner"]
    body = {"release": live["release"], "thumbs": "down", "input": "Will I be promoted?", "output": "Yes, surely."}
    [feedback_id] = (await client.post(f"/products/{slug}/feedback", json=body, headers=auth(token))).json()["ids"]
    response = await client.post(
        f"/products/{slug}/feedback/{feedback_id}/promote", json={"suite": "quality"}, headers=auth(token)
    )
    assert response.status_code == 201, response.text
    assert response.json()["version"]["number"] == 2
    [newest] = (await client.get(f"/products/{slug}/releases?limit=1", headers=auth(token))).json()["items"]
    assert newest["number"] == live["release"] + 1 and newest["cause"]["kind"] == "suite"
    missing = await client.post(
        f"/products/{slug}/feedback/999999/promote", json={"suite": "quality"}, headers=auth(token)
    )
    assert missing.status_code == 404


async def test_an_incident_shows_its_deadline_until_reported(client, live):
    slug, token = live["slug"], live["owner"]
    body = {
        "kind": "widespread_infringement",
        "what_happened": "Goals of employees on parental leave were drafted as underperformance.",
        "affected": "About 40 employees on leave",
        "product_suspended": True,
        "aware_at": "2026-11-30T09:00:00Z",
    }
    response = await client.post(f"/products/{slug}/incidents", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    incident = response.json()
    assert incident["release"] == live["release"] and incident["deadline_at"].startswith("2026-12-02T09:00:00")
    assert incident["reported_at"] is None
    reported = await client.post(
        f"/products/{slug}/incidents/{incident['id']}/reported",
        json={"authority_reference": "MSA-2026-113"},
        headers=auth(token),
    )
    assert reported.status_code == 200 and reported.json()["authority_reference"] == "MSA-2026-113"
    [listed] = (await client.get(f"/products/{slug}/incidents", headers=auth(token))).json()
    assert listed["overdue"] is False and listed["reported_by"]
    naive = {**body, "aware_at": "2026-11-30T09:00:00"}
    refused = await client.post(f"/products/{slug}/incidents", json=naive, headers=auth(token))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "aware_at"


async def test_recertify_on_demand_and_policy_fields(client, session, live):
    slug, token = live["slug"], live["owner"]
    started = await client.post(f"/products/{slug}/recertify", headers=auth(token))
    assert started.status_code == 202 and started.json()["state"] == "running"
    again = await client.post(f"/products/{slug}/recertify", headers=auth(token))
    assert again.status_code == 409
    [listed] = (await client.get(f"/products/{slug}/recertifications", headers=auth(token))).json()
    assert listed["id"] == started.json()["id"]
    admin = make_user(session, Role.admin)[1]
    change = {
        "recertify_days": 90,
        "kpi_thresholds": [{"kpi": "satisfaction", "min": 0.5}],
        "suspend_on_threshold": True,
    }
    patched = await client.patch("/policies/limited", json=change, headers=auth(admin))
    assert patched.status_code == 200, patched.text
    assert patched.json()["recertify_days"] == 90 and patched.json()["suspend_on_threshold"] is True
    assert patched.json()["kpi_thresholds"] == [{"kpi": "satisfaction", "min": 0.5, "window_days": 7, "min_volume": 10}]
    bad = await client.patch(
        "/policies/limited", json={"kpi_thresholds": [{"kpi": "volume", "max": 1}]}, headers=auth(admin)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("kpi_thresholds[0]")
