"""The web app's static files: a fixed list served from the package, cached for an hour."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from governance.kernel.errors import NotFound
from service.web.routing import STATIC_DIR, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "copy.js": "text/javascript",
    "steward.css": "text/css",
    "technical-file.css": "text/css",
    "favicon.svg": "image/svg+xml",
    "history.css": "text/css",
}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    # A fixed list, not a directory: nothing but these files is ever served from the package.
    if name not in STATIC_FILES:
        raise NotFound(f"no static file '{name}'")
    return FileResponse(
        STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=3600"}
    )
