"""What is recorded about a serious incident, and what is read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from governance.incidents.models import Incident, IncidentKind
from governance.kernel.fields import Strict, Text


class IncidentCreate(Strict):
    release: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="Release involved; default: the live release."
    )
    kind: IncidentKind = Field(
        default=IncidentKind.serious,
        description="serious (report within 15 days), death (10 days) or widespread_infringement (2 days).",
    )
    what_happened: Annotated[Text, Field(min_length=1, max_length=20_000)]
    affected: Annotated[Text, Field(min_length=1, max_length=5_000, description="Who is affected, and how.")]
    product_suspended: bool = Field(default=False, description="Whether the product was suspended because of it.")
    aware_at: datetime | None = Field(
        default=None, description="When the organisation became aware of it (the deadline runs from here); default now."
    )


class IncidentReport(Strict):
    authority_reference: Annotated[Text, Field(min_length=1, max_length=200, description="The authority's reference.")]


class IncidentView(BaseModel):
    id: int
    product: str
    release: int
    kind: IncidentKind
    what_happened: str
    affected: str
    product_suspended: bool
    aware_at: datetime
    deadline_at: datetime
    overdue: bool
    recorded_by: str
    recorded_at: datetime
    reported_at: datetime | None
    reported_by: str | None
    authority_reference: str | None


def incident_view(incident: Incident, slug: str, now: datetime) -> IncidentView:
    return IncidentView(
        id=incident.id,
        product=slug,
        release=incident.release_number,
        kind=incident.kind,
        what_happened=incident.what_happened,
        affected=incident.affected,
        product_suspended=incident.product_suspended,
        aware_at=incident.aware_at,
        deadline_at=incident.deadline_at,
        overdue=incident.reported_at is None and incident.deadline_at < now,
        recorded_by=incident.recorded_by,
        recorded_at=incident.recorded_at,
        reported_at=incident.reported_at,
        reported_by=incident.reported_by,
        authority_reference=incident.authority_reference,
    )
