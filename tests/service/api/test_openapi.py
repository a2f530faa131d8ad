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
