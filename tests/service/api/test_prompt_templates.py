"""Prompt templates are compiled when published and bounded when rendered, through the real paths."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import auth, make_product, make_user
from tests.inline_worker import run_queued_chunks


@pytest.fixture
def owned(session):
    owner, token = make_user(session, Role.product_owner)
    return make_product(session, owner), token


async def test_a_template_that_does_not_compile_is_a_422_naming_the_line_and_writes_no_version(client, owned):
    slug, token = owned
    url = f"/products/{slug}/prompts/system"
    refused = await client.put(url, json={"template": "Hello\n{{ oops", "message": "v1"}, headers=auth(token))
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["field"] == "template" and "line 2" in error["reason"], error
    assert (await client.get(f"{url}/versions", headers=auth(token))).status_code == 404

    assert (await client.put(url, json={"template": "Hi {{ name }}", "message": "v1"}, headers=auth(token))).is_success
    again = await client.put(url, json={"template": "{% if x %}", "message": "v2"}, headers=auth(token))
    assert again.status_code == 422 and "line 1" in again.json()["errors"][0]["reason"]
    versions = await client.get(f"{url}/versions", headers=auth(token))
    assert [v["number"] for v in versions.json()["items"]] == [1]


async def test_a_published_big_int_prompt_runs_to_an_error_with_the_reason(client, session):
    owner, token = make_user(session, Role.product_owner, name="olivia")
    shared, _ = make_user(session, Role.product_owner, name="paula")
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=owner, shared_actor=shared)  # the reference product publishes
    session.flush()
    run_queued_chunks(session)

    url = "/products/goal-coach/prompts/system"
    bomb = {"template": "{{ (7**(7**9)) % 10 }}", "message": "a big integer"}
    assert (await client.put(url, json=bomb, headers=auth(token))).status_code == 201
    assert run_queued_chunks(session) >= 1

    items = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"]
    release = (await client.get(f"/releases/{items[0]['id']}", headers=auth(token))).json()
    assert release["state"] != "passed", release
    run = (await client.get(f"/runs/{release['runs'][0]['id']}", headers=auth(token))).json()
    assert run["state"] == "error", run
    errors = [case["error"] for case in run["cases"]]
    assert errors and all(e and "template: the result of ** of" in e and "exceeds the limit" in e for e in errors)
