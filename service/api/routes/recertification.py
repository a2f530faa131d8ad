"""Re-certification of a product's live release: on demand, and its history."""

from __future__ import annotations

from fastapi import APIRouter, status

from governance.recertification import scheduling
from governance.recertification.views import RecertificationView, recertification_view
from service.api.deps import CurrentUser, DbSession

router = APIRouter(tags=["re-certification"])


@router.post(
    "/products/{slug}/recertify",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-run the live release's suites now and compare with its go-live evidence (owner or admin).",
)
def recertify(slug: str, session: DbSession, actor: CurrentUser) -> RecertificationView:
    """Re-run the live release's suites now and compare with its go-live evidence (owner or admin)."""
    return recertification_view(scheduling.recertify_now(session, actor, slug))


@router.get("/products/{slug}/recertifications", summary="A product's re-certifications, newest first.")
def list_recertifications(slug: str, session: DbSession, actor: CurrentUser) -> list[RecertificationView]:
    """A product's re-certifications, newest first."""
    return [recertification_view(item) for item in scheduling.list_recertifications(session, slug)]
