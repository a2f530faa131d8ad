"""The API docs at /docs: Swagger UI from an installed package, so they work offline, under the web app's CSP.

The page has no inline script (the policy forbids it): the bundle and a small start-up script are files served
from /docs/assets, and the start-up script reads the document's URL from the page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # assets only, no stubs

from service.web.routing import SECURITY_HEADERS

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"

_START = """\
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
"""


def docs_page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)} - API docs</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_URL}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{DOCS_URL}/start.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve Swagger UI at ``DOCS_URL`` for the document at ``openapi_url``; neither route is in that document."""
    page = docs_page(app.title, openapi_url)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    @app.get(f"{DOCS_URL}/start.js", include_in_schema=False)
    def start() -> Response:
        return Response(_START, media_type="text/javascript", headers=SECURITY_HEADERS)

    app.mount(ASSETS_URL, StaticFiles(directory=Path(str(swagger_ui_path))), name="docs-assets")
