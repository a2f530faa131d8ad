"""A risk tier's policy sets floors on fairness suites' thresholds, over HTTP, checked field by field."""

from __future__ import annotations

from governance.accounts.roles import Role
from tests.factories import auth, make_user


async def test_an_admin_sets_fairness_floors_and_a_bad_one_names_its_field(client, session):
    _, admin = make_user(session, Role.admin)
    _, owner = make_user(session, Role.product_owner)
    session.flush()
    floors = {"min_impact_ratio": 0.9, "max_refusal_gap": 0.05}
    changed = await client.patch("/policies/high", json={"fairness_thresholds": floors}, headers=auth(admin))
    assert changed.status_code == 200, changed.text
    assert changed.json()["fairness_thresholds"] == floors
    listed = {p["risk_tier"]: p for p in (await client.get("/policies", headers=auth(owner))).json()}
    assert listed["high"]["fairness_thresholds"] == floors and listed["minimal"]["fairness_thresholds"] == {}
    bad = await client.patch(
        "/policies/high", json={"fairness_thresholds": {"min_impact_ratio": 1.5}}, headers=auth(admin)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fairness_thresholds.min_impact_ratio"
    unknown = await client.patch("/policies/high", json={"fairness_thresholds": {"beta": 1}}, headers=auth(admin))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "fairness_thresholds.beta"
    denied = await client.patch("/policies/high", json={"fairness_thresholds": {}}, headers=auth(owner))
    assert denied.status_code == 403
    cleared = await client.patch("/policies/high", json={"fairness_thresholds": {}}, headers=auth(admin))
    assert cleared.json()["fairness_thresholds"] == {}
