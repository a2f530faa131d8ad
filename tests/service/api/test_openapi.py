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
