"""Every query of incidents."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.incidents.models import Incident
from governance.releases.models import Release, ReleaseState


def release_by_number(session: Session, product_id: int, number: int) -> Release | None:
    return session.scalar(select(Release).where(Release.product_id == product_id, Release.number == number))


def live_release(session: Session, product_id: int) -> Release | None:
    query = select(Release).where(Release.product_id == product_id, Release.state == ReleaseState.live.value)
    return session.scalar(query)


def incident_by_id(session: Session, product_id: int, incident_id: int) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.id == incident_id, Incident.product_id == product_id))


def incidents_of_product(session: Session, product_id: int) -> list[Incident]:
    query = select(Incident).where(Incident.product_id == product_id).order_by(Incident.id.desc())
    return list(session.scalars(query))


def unreported(session: Session, product_ids: Sequence[int]) -> list[Incident]:
    query = select(Incident).where(Incident.product_id.in_(product_ids), Incident.reported_at.is_(None))
    return list(session.scalars(query.order_by(Incident.deadline_at)))
