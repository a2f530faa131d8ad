"""The reviewers' and owners' web app, served at ``/``: server-rendered pages over the ``governance`` functions."""

from fastapi import APIRouter

from service.web import actions, pages

router = APIRouter()
router.include_router(actions.router)
router.include_router(pages.router)

__all__ = ["router"]
