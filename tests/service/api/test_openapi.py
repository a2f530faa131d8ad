from __future__ import annotations


async def test_healthz_needs_no_token(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_every_endpoint_has_a_one_line_summary(app):
    schema = app.openapi()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) > 25
    missing = [f"{method.upper()} {path}" for path, method, op in operations if not op.get("summary")]
    assert missing == []
    multi_line = [op["summary"] for _, _, op in operations if "\n" in op["summary"]]
    assert multi_line == []
    assert "/api/v1/products/{slug}/prompts/{name}/diff" in schema["paths"]


async def test_the_docs_load_everything_from_steward_itself_under_the_apps_csp(client):
    import re

    page = await client.get("http://steward.test/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert "http://" not in html and "https://" not in html and "//" not in html.replace("://", "")
    assert "<script>" not in html  # no inline script: the CSP would block it
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/docs/assets/swagger-ui-bundle.js" in assets and "/docs/assets/swagger-ui.css" in assets
    for asset in assets:
        loaded = await client.get(f"http://steward.test{asset}")
        assert loaded.status_code == 200 and loaded.content, asset
        assert loaded.headers["x-content-type-options"] == "nosniff"
    start = await client.get("http://steward.test/docs/start.js")
    assert "SwaggerUIBundle" in start.text and "javascript" in start.headers["content-type"]
    assert 'data-openapi-url="/openapi.json"' in html
    assert (await client.get("http://steward.test/openapi.json")).status_code == 200


# The document tells the truth about errors: every one is a Problem, sent as application/problem+json.


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, item in schema["paths"].items() for method, op in item.items()]


def statuses(schema: dict, method: str, path: str) -> set[int]:
    return {int(code) for code in schema["paths"][path][method]["responses"]}


async def test_every_error_response_is_a_problem_as_problem_json(app):
    schema = app.openapi()
    errors = [
        (f"{method.upper()} {path} {code}", response)
        for method, path, op in operations(schema)
        for code, response in op["responses"].items()
        if int(code) >= 400
    ]
    assert len(errors) > 250
    wrong = [where for where, response in errors if response["content"] != PROBLEM_CONTENT]
    assert wrong == []
    assert all(response["description"] for _, response in errors)


PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def test_fastapis_validation_error_shapes_are_gone(app):
    import json

    schema = app.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ValidationError" not in schema["components"]["schemas"]
    assert "ValidationError" not in json.dumps(schema["paths"])


async def test_statuses_follow_from_each_operations_token_parameters_body_and_method(app):
    schema = app.openapi()
    # Token: 401/403, and the database that holds tokens: 503. Path parameter: 404. Body: 400, 413 and 422.
    # A write may clash with the current state: 409.
    assert statuses(schema, "post", "/api/v1/products") == {201, 400, 401, 403, 409, 413, 422, 503}
    assert statuses(schema, "get", "/api/v1/products/{slug}") == {200, 401, 403, 404, 422, 503}
    assert statuses(schema, "delete", "/api/v1/tokens/{token_id}") == {200, 401, 403, 404, 409, 422, 503}
    assert statuses(schema, "post", "/api/v1/releases/{release_id}/go-live") == {
        200, 401, 403, 404, 409, 413, 422, 503,
    }  # fmt: skip
    assert statuses(schema, "get", "/api/v1/me") == {200, 401, 403, 503}
    # A route declares what only it answers: a name in its query that does not exist.
    assert 404 in statuses(schema, "get", "/api/v1/impact")
    # No token, no database: liveness answers or nothing does.
    assert statuses(schema, "get", "/healthz") == {200}
    assert statuses(schema, "get", "/api/v1/healthz") == {200}
    # Publishing says what both of its successes carry.
    put_prompt = schema["paths"]["/api/v1/products/{slug}/prompts/{name}"]["put"]["responses"]
    assert put_prompt["201"]["content"] == put_prompt["200"]["content"]


async def test_a_401_promises_the_header_it_sends(app, client):
    schema = app.openapi()
    for method, path, op in operations(schema):
        if "401" in op["responses"]:
            header = op["responses"]["401"]["headers"]["WWW-Authenticate"]
            assert header["required"] is True, f"{method} {path}"
    response = await client.get("/me")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


async def test_the_problem_schema_describes_what_the_api_sends(app, client, session):
    import jsonschema

    from governance.accounts.roles import Role
    from tests.factories import auth, make_user

    schema = app.openapi()
    problem = schema["components"]["schemas"]["Problem"]
    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/Problem", **schema})
    token = make_user(session, Role.reviewer)[1]
    sent = [
        await client.get("/me"),
        await client.post("/products", content=b"{", headers={"Content-Type": "application/json"}),
        await client.get("/products/no-such-product", headers=auth(token)),
        await client.post("/products", json={}, headers=auth(token)),
        await client.post("/products", content=b"x" * (65 * 1024)),
        await client.post("/products", content=b'{"name": "\xff"}', headers={"Content-Type": "application/json"}),
    ]
    assert [r.status_code for r in sent] == [401, 422, 404, 422, 413, 400]
    for response in sent:
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert list(validator.iter_errors(body)) == [], body
    assert {"errors", "instance"} <= set(sent[-2].json())
    # A body that breaks the schema is refused by it: the schema is not a blank cheque.
    assert not validator.is_valid({**sent[0].json(), "instance": None})
    assert not validator.is_valid({**sent[0].json(), "extra": 1})
    assert set(problem["required"]) == {"title", "status", "detail"}


async def test_links_lead_from_what_was_made_to_what_can_be_done_with_it(app):
    schema = app.openapi()
    by_id = {op["operationId"]: (method, path, op) for method, path, op in operations(schema)}
    links = [
        (f"{method.upper()} {path} {code}", name, link)
        for method, path, op in operations(schema)
        for code, response in op["responses"].items()
        for name, link in response.get("links", {}).items()
    ]
    assert len(links) > 30
    for where, name, link in links:
        target = by_id[link["operationId"]][2]
        declared = {p["name"] for p in target.get("parameters", [])}
        assert set(link["parameters"]) <= declared, (where, name)
    created = schema["paths"]["/api/v1/products"]["post"]["responses"]["201"]["links"]["GetProduct"]
    assert by_id[created["operationId"]][:2] == ("get", "/api/v1/products/{slug}")
    assert created["parameters"] == {"slug": "$response.body#/slug"}
