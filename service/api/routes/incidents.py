"""Serious incidents of a product's releases, with their reporting deadlines."""

from __future__ import annotations

from fastapi import APIRouter, status

from governance.incidents import recording
from governance.incidents.schemas import IncidentCreate, IncidentReport, IncidentView, incident_view
from governance.kernel.db import utcnow
from service.api.deps import CurrentUser, DbSession

router = APIRouter(tags=["incidents"])


@router.post(
    "/products/{slug}/incidents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a serious incident against a release (owner, reviewer or admin); its deadline follows its kind.",
)
def create_incident(slug: str, body: IncidentCreate, session: DbSession, actor: CurrentUser) -> IncidentView:
    """Record a serious incident against a release (owner, reviewer or admin); its deadline follows its kind."""
    return incident_view(recording.record_incident(session, actor, slug, body), slug, utcnow())


@router.get("/products/{slug}/incidents", summary="A product's incidents, newest first, with deadlines.")
def list_incidents(slug: str, session: DbSession, actor: CurrentUser) -> list[IncidentView]:
    """A product's incidents, newest first, with deadlines."""
    _product, incidents = recording.list_incidents(session, slug)
    now = utcnow()
    return [incident_view(incident, slug, now) for incident in incidents]


@router.post(
    "/products/{slug}/incidents/{incident_id}/reported",
    summary="Mark an incident reported to the authority, with their reference: its task closes.",
)
def report_incident(
    slug: str, incident_id: int, body: IncidentReport, session: DbSession, actor: CurrentUser
) -> IncidentView:
    """Mark an incident reported to the authority, with their reference: its task closes."""
    incident = recording.mark_reported(session, actor, slug, incident_id, body.authority_reference)
    return incident_view(incident, slug, utcnow())
