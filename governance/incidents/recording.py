"""Recording a serious incident against a release, and marking it reported to the authority.

The AI Act (Art. 73) sets the reporting deadline from when the organisation became aware of the incident:
15 days, 10 if a person died, 2 for a widespread infringement (which includes infringements of fundamental
rights at work). Until it is marked reported, with the authority's reference, it is a task on the owner's home.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.permissions import require_role
from governance.accounts.roles import Role
from governance.audit.trail import record_event
from governance.catalog.models import Product
from governance.catalog.permissions import can_manage_product
from governance.catalog.products import get_product
from governance.incidents import repository as repo
from governance.incidents.models import Incident, IncidentKind
from governance.incidents.schemas import IncidentCreate
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Invalid, NotFound
from governance.releases.models import ReleaseState

REPORTING_DAYS: dict[IncidentKind, int] = {
    IncidentKind.serious: 15,
    IncidentKind.death: 10,
    IncidentKind.widespread_infringement: 2,
}


def _require_overseer(actor: User, product: Product, action: str) -> None:
    """The product's owner, a reviewer or an admin: the people who oversee a product in production."""
    if not can_manage_product(actor, product):
        require_role(actor, Role.reviewer, Role.admin, action=action)


def record_incident(session: Session, actor: User, slug: str, data: IncidentCreate) -> Incident:
    product = get_product(session, slug)
    _require_overseer(actor, product, "recording an incident")
    if data.release is None:
        release = repo.live_release(session, product.id)
        if release is None:
            raise Invalid(f"'{slug}' has no live release: name the release involved", field="release")
    else:
        release = repo.release_by_number(session, product.id, data.release)
        if release is None:
            raise Invalid(f"'{slug}' has no release {data.release}", field="release")
        if release.state not in (ReleaseState.live.value, ReleaseState.retired.value):
            raise Invalid(f"release {data.release} of '{slug}' never went live", field="release")
    now = utcnow()
    aware_at = data.aware_at or now
    if aware_at.tzinfo is None:
        raise Invalid("give aware_at with a time zone, e.g. 2026-12-01T09:00:00Z", field="aware_at")
    if aware_at > now:
        raise Invalid("aware_at is in the future", field="aware_at")
    incident = Incident(
        product_id=product.id,
        release_id=release.id,
        release_number=release.number,
        kind=data.kind,
        what_happened=data.what_happened,
        affected=data.affected,
        product_suspended=data.product_suspended,
        aware_at=aware_at,
        deadline_at=aware_at + timedelta(days=REPORTING_DAYS[data.kind]),
        recorded_by=actor.name,
        recorded_at=now,
    )
    session.add(incident)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="incident.recorded",
        subject_type="release",
        subject=f"{slug}#{release.number}",
        product_slug=slug,
        after={
            "release_id": release.id,
            "incident_id": incident.id,
            "kind": incident.kind.value,
            "product_suspended": incident.product_suspended,
            "deadline_at": incident.deadline_at.isoformat(),
        },
        reason=data.what_happened[:500],
    )
    return incident


def mark_reported(session: Session, actor: User, slug: str, incident_id: int, reference: str) -> Incident:
    product = get_product(session, slug)
    _require_overseer(actor, product, "marking an incident reported")
    incident = repo.incident_by_id(session, product.id, incident_id)
    if incident is None:
        raise NotFound(f"'{slug}' has no incident {incident_id}", field="incident_id")
    if incident.reported_at is not None:
        raise Conflict(
            f"incident {incident_id} was reported by {incident.reported_by} as {incident.authority_reference}",
            field="incident_id",
        )
    incident.reported_at, incident.reported_by, incident.authority_reference = utcnow(), actor.name, reference
    session.flush()
    record_event(
        session,
        actor=actor,
        action="incident.reported",
        subject_type="release",
        subject=f"{slug}#{incident.release_number}",
        product_slug=slug,
        after={"release_id": incident.release_id, "incident_id": incident.id, "authority_reference": reference},
    )
    return incident


def list_incidents(session: Session, slug: str) -> tuple[Product, list[Incident]]:
    product = get_product(session, slug)
    return product, repo.incidents_of_product(session, product.id)
