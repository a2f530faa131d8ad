"""The reviewers' and owners' web app, served at ``/``: server-rendered pages over the ``governance`` functions.

``pages/`` holds one module per page (its presenter and routes); ``routing`` the templates, dependencies and the
route class that turns domain refusals into pages or flash messages; ``sessions`` the signed cookie.
"""

from fastapi import APIRouter

from service.web import assets
from service.web.pages import audit, history, home, impact, product, production, release, sign_in, technical_file

router = APIRouter()
for page in (sign_in, release, technical_file, assets, home, product, production, impact, audit, history):
    router.include_router(page.router)

__all__ = ["router"]
