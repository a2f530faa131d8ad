"""Publishing prompts and suites (owned by a product), their history and diffs, and who may publish them."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from tests.factories import auth, make_product, make_user, suite_spec


@pytest.fixture
def owned(session):
    owner, token = make_user(session, Role.product_owner)
    return make_product(session, owner), token


async def test_publishing_the_same_prompt_twice_makes_one_version(client, owned):
    slug, token = owned
    url = f"/products/{slug}/prompts/system"
    first = await client.put(
        url, json={"template": "You are a coach for {{ company }}.", "message": "v1"}, headers=auth(token)
    )
    assert first.status_code == 201 and first.json()["created"] is True
    assert first.json()["version"]["number"] == 1 and len(first.json()["version"]["sha256"]) == 64
    again = await client.put(
        url, json={"template": "You are a coach for {{ company }}.", "message": "again"}, headers=auth(token)
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["version"]["number"] == 1 and "unchanged" in again.json()["detail"]
    changed = await client.put(
        url,
        json={"template": "You are a goal coach for {{ company }}.", "message": "v2"},
        headers=auth(token),
    )
    assert changed.status_code == 201 and changed.json()["version"]["number"] == 2

    versions = await client.get(f"{url}/versions", headers=auth(token))
    assert [v["number"] for v in versions.json()["items"]] == [1, 2]
    assert [v["message"] for v in versions.json()["items"]] == ["v1", "v2"]
    one = await client.get(f"{url}/versions/1", headers=auth(token))
    assert one.json()["content"] == {"template": "You are a coach for {{ company }}."}
    head = await client.get(url, headers=auth(token))
    assert head.json()["number"] == 2
    diff = await client.get(f"{url}/diff", params={"from": 1, "to": 2}, headers=auth(token))
    assert diff.status_code == 200
    text = diff.json()["diff"]
    assert "--- system@v1" in text and "+++ system@v2" in text
    assert "-You are a coach for {{ company }}." in text and "+You are a goal coach for {{ company }}." in text
    # A version number no database can hold is refused by the parameter's bounds, not by a failed query.
    for bad in ({"from": 2**64, "to": 2}, {"from": 1, "to": -(2**64)}):
        refused = await client.get(f"{url}/diff", params=bad, headers=auth(token))
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == next(k for k, v in bad.items() if abs(v) > 2**63)
    missing = await client.get(f"{url}/versions/9", headers=auth(token))
    assert missing.status_code == 404 and "head is 2" in missing.json()["detail"]


async def test_product_view_shows_head_versions(client, owned):
    slug, token = owned
    await client.put(f"/products/{slug}/prompts/system", json={"template": "a"}, headers=auth(token))
    await client.put(f"/products/{slug}/prompts/system", json={"template": "b"}, headers=auth(token))
    await client.put(f"/products/{slug}/suites/quality", json={"spec": suite_spec()}, headers=auth(token))
    view = (await client.get(f"/products/{slug}", headers=auth(token))).json()
    assert [(p["name"], p["head"]["number"]) for p in view["prompts"]] == [("system", 2)]
    assert [(s["name"], s["head"]["number"]) for s in view["suites"]] == [("quality", 1)]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("owner", True), ("admin", True), ("ci", True), ("other_owner", False), ("reviewer", False)],
)
@pytest.mark.parametrize("kind", ["prompts", "suites"])
async def test_who_may_publish_prompts_and_suites(client, session, owned, who, allowed, kind):
    slug, owner_token = owned
    token = (
        owner_token
        if who == "owner"
        else make_user(
            session,
            {
                "admin": Role.admin,
                "ci": Role.ci,
                "other_owner": Role.product_owner,
                "reviewer": Role.reviewer,
            }[who],
        )[1]
    )
    body = {"template": "Hello"} if kind == "prompts" else {"spec": suite_spec()}
    name = "quality" if kind == "suites" else "system"
    response = await client.put(f"/products/{slug}/{kind}/{name}", json=body, headers=auth(token))
    assert response.status_code == (201 if allowed else 403), response.text
    if not allowed:
        assert "owner of" in response.json()["detail"]


async def test_an_invalid_suite_is_refused_with_the_path_of_each_problem(client, owned):
    slug, token = owned
    spec = suite_spec()
    spec["cases"][1]["asserts"][0]["type"] = "containz"
    response = await client.put(f"/products/{slug}/suites/quality", json={"spec": spec}, headers=auth(token))
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.startswith("spec.cases[1]") for f in fields), fields
    assert "containz" in response.text
    renamed = await client.put(f"/products/{slug}/suites/other", json={"spec": suite_spec()}, headers=auth(token))
    assert renamed.status_code == 422 and renamed.json()["errors"][0]["field"] == "spec.name"
    history = await client.get(f"/products/{slug}/suites/quality/versions", headers=auth(token))
    assert history.status_code == 404


async def test_bad_component_names_and_bodies(client, owned):
    slug, token = owned
    bad_name = await client.put(f"/products/{slug}/prompts/Bad Name", json={"template": "x"}, headers=auth(token))
    assert bad_name.status_code == 422 and bad_name.json()["errors"][0]["field"] == "name"
    empty = await client.put(f"/products/{slug}/prompts/system", json={"template": ""}, headers=auth(token))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "template"
    not_json = await client.put(
        f"/products/{slug}/prompts/system",
        content=b"{oops",
        headers={**auth(token), "content-type": "application/json"},
    )
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "body"
    unknown = await client.put("/products/nope-nope/prompts/system", json={"template": "x"}, headers=auth(token))
    assert unknown.status_code == 404
