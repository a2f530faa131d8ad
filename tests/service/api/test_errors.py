"""Errors are problem+json with the field and reason, and a failed request leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.models import ComponentVersion
from tests.factories import auth, make_product, make_user


async def test_body_over_the_limit_is_413_with_or_without_content_length(client, session, settings):
    owner, token = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    big = {"template": "x" * (settings.max_body_bytes + 1)}
    response = await client.put(f"/products/{slug}/prompts/system", json=big, headers=auth(token))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{"field": "body", "reason": f"larger than {settings.max_body_bytes} bytes"}]

    async def chunks():
        for _ in range(settings.max_body_bytes // 1000 + 2):
            yield b"x" * 1000

    streamed = await client.put(
        f"/products/{slug}/prompts/system",
        content=chunks(),
        headers={**auth(token), "content-type": "application/json"},
    )
    assert streamed.status_code == 413


async def test_unknown_endpoint_is_a_problem_too(client, session):
    _, token = make_user(session, Role.reviewer)
    response = await client.get("/nothing-here", headers=auth(token))
    assert response.status_code == 404 and response.json()["detail"] == "no endpoint at GET /api/v1/nothing-here"


async def test_a_failure_after_a_write_rolls_the_whole_request_back(client, session, monkeypatch):
    owner, token = make_user(session, Role.product_owner)
    slug = make_product(session, owner)

    def explode(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    # The version row is flushed before the audit event is written: the failure must take both with it.
    monkeypatch.setattr(components, "record_event", explode)
    response = await client.put(f"/products/{slug}/prompts/system", json={"template": "Hi"}, headers=auth(token))
    assert response.status_code == 500
    assert response.json()["detail"] == "an unexpected error occurred; nothing was saved"
    assert session.scalar(select(func.count()).select_from(ComponentVersion)) == 0
    monkeypatch.undo()
    retry = await client.put(f"/products/{slug}/prompts/system", json={"template": "Hi"}, headers=auth(token))
    assert retry.status_code == 201 and retry.json()["version"]["number"] == 1


@pytest.mark.parametrize("payload", [[], "text", 42, None, {"template": ["list"]}, {"template": {"a": 1}}])
async def test_wrong_json_shapes_are_422(client, session, payload):
    owner, token = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    response = await client.put(f"/products/{slug}/prompts/system", json=payload, headers=auth(token))
    assert response.status_code == 422
    assert response.json()["errors"], response.json()


async def test_ids_beyond_what_a_database_holds_are_not_found(client, session):
    _, token = make_user(session, Role.admin)
    huge = 2**63
    for path in (
        f"/releases/{huge}",
        f"/runs/{huge}",
        f"/webhooks/{huge}/deliveries",
        f"/products/x/prompts/y/versions/{huge}",
    ):
        response = await client.get(path, headers=auth(token))
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete(f"/tokens/{huge}", headers=auth(token))).status_code == 404


async def test_an_unpaired_surrogate_in_any_string_is_a_422_naming_the_field(client, session):
    user, token = make_user(session, Role.product_owner)
    headers = {**auth(token), "Content-Type": "application/json"}
    product = '{"slug": "p-1", "name": "\\ud800", "risk_tier": "high", "model": {"provider": "offline", "name": "m"}}'
    response = await client.post("/products", content=product, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
    slug = make_product(session, user)
    suite = '{"spec": {"version": 1, "name": "q", "cases": [{"id": "a", "vars": {"x": "\\udfff"}}]}}'
    response = await client.put(f"/products/{slug}/suites/q", content=suite, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "spec.cases[0].vars.x"
    paired = '{"template": "Hello \\ud83d\\ude00 {{ employee_message }}"}'
    assert (await client.put(f"/products/{slug}/prompts/system", content=paired, headers=headers)).status_code in (
        200,
        201,
    )


async def test_every_response_says_nosniff(client, session, settings):
    _, token = make_user(session, Role.reviewer)
    too_big = "x" * (settings.max_body_bytes + 1)
    responses = [
        await client.get("/healthz"),
        await client.get("/me", headers=auth(token)),
        await client.get("/me"),  # 401
        await client.get("/products/nope", headers=auth(token)),  # 404
        await client.post("/products", content=too_big, headers={**auth(token), "content-type": "application/json"}),
        await client.get("http://steward.test/openapi.json"),
        await client.get("http://steward.test/docs"),
        await client.get("http://steward.test/"),
    ]
    assert [r.headers.get("x-content-type-options") for r in responses] == ["nosniff"] * len(responses)
    assert [r.headers.get_list("x-content-type-options") for r in responses][-1] == ["nosniff"]
