"""HR compliance: a product's classification from its declared use, its obligations and their evidence, lint."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from governance.compliance import reading
from governance.compliance.obligations import record_evidence
from governance.compliance.schemas import ClassificationView, ObligationsView, VersionFindingsView
from governance.releases.reading import release_id_at
from service.api.deps import CurrentUser, DbSession

router = APIRouter(tags=["compliance"])


@router.get(
    "/products/{slug}/classification",
    summary="The product's AI Act classification from its declared HR use, with the rationale article by article.",
)
def get_classification(slug: str, session: DbSession, actor: CurrentUser) -> ClassificationView:
    """The product's AI Act classification from its declared HR use, with the rationale article by article."""
    return reading.classification_view(session, slug)


@router.get(
    "/products/{slug}/obligations",
    summary="The obligations the product's classification brings, each met with evidence or missing.",
)
def get_obligations(slug: str, session: DbSession, actor: CurrentUser) -> ObligationsView:
    """The obligations the product's classification brings, each met with evidence or missing."""
    return reading.obligations_view(session, slug)


@router.put(
    "/products/{slug}/obligations/{obligation}",
    summary="Record the evidence for one obligation (owner or admin); the body is the obligation's evidence form.",
)
def put_evidence(
    slug: str,
    obligation: str,
    session: DbSession,
    actor: CurrentUser,
    body: dict[str, Any] = Body(description="The evidence form of the obligation (see README, Compliance)."),
) -> ObligationsView:
    """Record the evidence for one obligation (owner or admin); the body is the obligation's evidence form."""
    record_evidence(session, actor, slug, obligation, body)
    return reading.obligations_view(session, slug)


@router.get(
    "/releases/{release_id}/obligations",
    summary="A release's obligations, its documents' lint findings and what blocks its go-live.",
)
def get_release_obligations(release_id: int, session: DbSession, actor: CurrentUser) -> ObligationsView:
    """A release's obligations, its documents' lint findings and what blocks its go-live."""
    return reading.release_obligations_view(session, release_id)


@router.get(
    "/products/{slug}/releases/{number}/obligations",
    summary="A release's obligations by its product and number.",
)
def get_numbered_release_obligations(
    slug: str, number: Annotated[int, Path(ge=1)], session: DbSession, actor: CurrentUser
) -> ObligationsView:
    """A release's obligations, its documents' lint findings and what blocks its go-live."""
    return reading.release_obligations_view(session, release_id_at(session, slug, number))


@router.get(
    "/documents/{slug}/versions/{number}/findings",
    summary="What the document lint found in a document version when it was published, with line numbers.",
)
def get_findings(slug: str, number: int, session: DbSession, actor: CurrentUser) -> VersionFindingsView:
    """What the document lint found in a document version when it was published, with line numbers."""
    return reading.version_findings(session, slug, number)
