from __future__ import annotations

import base64
import json

import pytest

from governance.accounts.roles import Role
from tests.factories import auth, make_product, make_user, product_payload


async def test_owner_registers_reads_and_changes_a_product(client, session):
    _, owner = make_user(session, Role.product_owner, name="olivia")
    created = await client.post("/products", json=product_payload(), headers=auth(owner))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["owner"] == "olivia" and body["status"] == "no_release" and body["lifecycle"] == "draft"
    assert body["model"] == {"provider": "offline", "name": "coach", "temperature": 0.2, "max_tokens": 600}
    patched = await client.patch(
        "/products/goal-coach", json={"lifecycle": "active", "risk_tier": "limited"}, headers=auth(owner)
    )
    assert patched.status_code == 200
    assert (patched.json()["lifecycle"], patched.json()["risk_tier"]) == ("active", "limited")
    fetched = await client.get("/products/goal-coach", headers=auth(owner))
    assert fetched.json()["risk_tier"] == "limited"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.admin, True), (Role.product_owner, True), (Role.reviewer, False), (Role.ci, False)],
)
async def test_who_may_register_a_product(client, session, role, allowed):
    _, token = make_user(session, role)
    response = await client.post(
        "/products", json=product_payload(f"p-{role.value.replace('_', '-')}"), headers=auth(token)
    )
    assert response.status_code == (201 if allowed else 403), response.text


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("owner", True), ("admin", True), ("other_owner", False), ("reviewer", False), ("ci", False)],
)
async def test_who_may_change_a_product(client, session, who, allowed):
    owner, owner_token = make_user(session, Role.product_owner)
    tokens = {
        "owner": owner_token,
        "admin": make_user(session, Role.admin)[1],
        "other_owner": make_user(session, Role.product_owner)[1],
        "reviewer": make_user(session, Role.reviewer)[1],
        "ci": make_user(session, Role.ci)[1],
    }
    slug = make_product(session, owner)
    response = await client.patch(f"/products/{slug}", json={"name": "Renamed"}, headers=auth(tokens[who]))
    assert response.status_code == (200 if allowed else 403), response.text


async def test_duplicate_slug_is_409_and_bad_fields_are_422(client, session):
    _, owner = make_user(session, Role.product_owner)
    assert (await client.post("/products", json=product_payload(), headers=auth(owner))).status_code == 201
    duplicate = await client.post("/products", json=product_payload(), headers=auth(owner))
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "slug"
    for payload, field in [
        (product_payload("Bad_Slug"), "slug"),
        (product_payload("ab"), "slug"),
        (product_payload("x" * 65), "slug"),
        (product_payload("ok-slug", risk_tier="extreme"), "risk_tier"),
        (
            product_payload("ok-slug", model={"provider": "openai", "name": "m", "temperature": 9}),
            "model.temperature",
        ),
        (product_payload("ok-slug", owner="nobody-here"), "owner"),
        (product_payload("ok-slug", surprise=1), "surprise"),
        (product_payload("ok-slug", name="a\x00b"), "name"),
    ]:
        response = await client.post("/products", json=payload, headers=auth(owner))
        assert response.status_code == 422, (payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], response.json()


async def test_a_product_owner_cannot_register_a_product_for_someone_else(client, session):
    _, owner = make_user(session, Role.product_owner)
    make_user(session, Role.product_owner, name="someone")
    response = await client.post("/products", json=product_payload(owner="someone"), headers=auth(owner))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "owner"
    _, admin = make_user(session, Role.admin)
    response = await client.post("/products", json=product_payload(owner="someone"), headers=auth(admin))
    assert response.status_code == 201 and response.json()["owner"] == "someone"


async def test_product_list_pages_with_a_cursor_and_filters(client, session):
    owner, token = make_user(session, Role.product_owner)
    other, _ = make_user(session, Role.product_owner)
    slugs = [make_product(session, owner) for _ in range(3)] + [make_product(session, other)]
    first = await client.get("/products", params={"limit": 2}, headers=auth(token))
    second = await client.get("/products", params={"limit": 2, "cursor": first.json()["next"]}, headers=auth(token))
    assert [p["slug"] for p in first.json()["items"] + second.json()["items"]] == slugs
    assert second.json()["next"] is None
    mine = await client.get("/products", params={"owner": owner.name}, headers=auth(token))
    assert [p["slug"] for p in mine.json()["items"]] == slugs[:3]
    bad = await client.get("/products", params={"cursor": "garbage"}, headers=auth(token))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    # Well-formed, but its key is beyond what a database can hold: refused before any query binds it.
    beyond = base64.urlsafe_b64encode(json.dumps({"after": 2**64}).encode()).decode().rstrip("=")
    bad = await client.get("/products", params={"cursor": beyond}, headers=auth(token))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    too_many = await client.get("/products", params={"limit": 10_000}, headers=auth(token))
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "limit"


async def test_unknown_product_is_404_problem(client, session):
    _, token = make_user(session, Role.reviewer)
    response = await client.get("/products/does-not-exist", headers=auth(token))
    assert response.status_code == 404
    assert response.json()["detail"] == "no product with slug 'does-not-exist'"
    assert response.json()["instance"] == "/api/v1/products/does-not-exist"
