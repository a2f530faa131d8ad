"""A release is addressed the way people quote it, by product and number; the global id is still accepted."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from tests.factories import auth, make_product, make_user
from tests.inline_worker import run_queued_chunks
from tests.service.api.test_releases import publish


@pytest.fixture
def world(session):
    owner, owner_token = make_user(session, Role.product_owner)
    tokens = {"owner": owner_token, "rita": make_user(session, Role.reviewer)[1]}
    return make_product(session, owner), make_product(session, owner), tokens


async def test_the_same_release_by_number_and_by_global_id(client, session, world):
    first, second, t = world
    await publish(client, first, t["owner"])
    await publish(client, second, t["owner"])
    run_queued_chunks(session)
    # Each product numbers its own releases from 1, so the number alone is never enough: the product goes with it.
    listed = (await client.get(f"/products/{second}/releases", headers=auth(t["owner"]))).json()["items"][0]
    number = listed["number"]
    assert listed["href"] == f"/api/v1/products/{second}/releases/{number}"
    by_number = await client.get(listed["href"].removeprefix("/api/v1"), headers=auth(t["rita"]))
    by_id = await client.get(f"/releases/{listed['id']}", headers=auth(t["rita"]))
    assert by_number.status_code == by_id.status_code == 200 and by_number.json() == by_id.json()
    assert by_number.json()["product"] == second
    product = (await client.get(f"/products/{second}", headers=auth(t["owner"]))).json()
    assert product["pending_release_number"] == number and product["pending_release"] == listed["id"]


async def test_decisions_by_number_act_on_that_products_release(client, session, world):
    first, second, t = world
    await publish(client, first, t["owner"])
    await publish(client, second, t["owner"])
    run_queued_chunks(session)
    # Publishing the prompt cut release 1 and the suite release 2, which superseded it: 2 is open in both.
    signed = await client.post(f"/products/{second}/releases/2/signoff", json={"note": "ok"}, headers=auth(t["owner"]))
    assert signed.status_code == 200 and signed.json()["state"] == "signed_off"
    untouched = (await client.get(f"/products/{first}/releases/2", headers=auth(t["owner"]))).json()
    assert untouched["state"] == "passed"
    # Four-eyes holds whichever address is used: the owner may not approve her own release.
    own = await client.post(f"/products/{second}/releases/2/approve", json={"note": "x"}, headers=auth(t["owner"]))
    assert own.status_code == 403 and "requires the role reviewer" in own.json()["detail"]
    sent_back = await client.post(
        f"/products/{second}/releases/2/request-changes",
        json={"changes": "Name the mid-year clause in the prompt."},
        headers=auth(t["rita"]),
    )
    assert sent_back.status_code == 200, sent_back.text
    refused = await client.post(f"/products/{first}/releases/2/approve", json={"note": "x"}, headers=auth(t["rita"]))
    assert refused.status_code == 409 and refused.json()["detail"].startswith("release 2 is passed")
    superseded = await client.post(f"/products/{first}/releases/1/signoff", json={}, headers=auth(t["owner"]))
    assert superseded.status_code == 409 and f"release 1 of '{first}' is superseded" in superseded.json()["detail"]


@pytest.mark.parametrize(
    ("address", "status", "field", "says"),
    [
        ("/products/{slug}/releases/7", 404, "number", "product '{slug}' has no release 7"),
        ("/products/nope/releases/1", 404, "slug", "no product with slug 'nope'"),
        ("/products/{slug}/releases/0", 422, "number", "greater than or equal to 1"),
        ("/products/{slug}/releases/six", 422, "number", "valid integer"),
    ],
)
async def test_a_wrong_number_is_a_problem_naming_what_is_missing(client, world, address, status, field, says):
    slug, _, t = world
    response = await client.get(address.format(slug=slug), headers=auth(t["owner"]))
    assert response.status_code == status and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert says.format(slug=slug) in str(problem), problem
    assert field in str(problem.get("errors") or problem.get("field") or problem)
