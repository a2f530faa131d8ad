"""A serious incident carries its Art. 73 reporting deadline, stays open until reported, and is in the trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.audit.models import AuditEvent
from governance.incidents.models import IncidentKind
from governance.incidents.recording import list_incidents, mark_reported, record_incident
from governance.incidents.repository import unreported
from governance.incidents.schemas import IncidentCreate
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Forbidden, Invalid
from tests.factories import make_user
from tests.live_products import live_product


def create(**fields) -> IncidentCreate:
    return IncidentCreate(what_happened="Advised an employee to accept a pay cut.", affected="One employee", **fields)


@pytest.mark.parametrize(
    ("kind", "days"),
    [(IncidentKind.serious, 15), (IncidentKind.death, 10), (IncidentKind.widespread_infringement, 2)],
)
def test_an_incident_shows_its_deadline_by_kind(session, kind, days):
    owner, slug, release = live_product(session)
    aware = utcnow() - timedelta(days=1)
    incident = record_incident(session, owner, slug, create(kind=kind, aware_at=aware))
    assert incident.release_number == release.number
    assert incident.deadline_at == aware + timedelta(days=days)


def test_an_incident_is_a_task_until_reported_and_is_in_the_releases_trail(session):
    owner, slug, release = live_product(session)
    reviewer = make_user(session, Role.reviewer)[0]
    incident = record_incident(session, reviewer, slug, create(product_suspended=True))
    assert [i.id for i in unreported(session, [release.product_id])] == [incident.id]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.recorded")).one()
    assert event.subject == f"{slug}#{release.number}" and event.after["release_id"] == release.id
    assert event.after["product_suspended"] is True
    mark_reported(session, owner, slug, incident.id, "AI-OFFICE-2026-0042")
    assert unreported(session, [release.product_id]) == []
    assert list_incidents(session, slug)[1][0].authority_reference == "AI-OFFICE-2026-0042"
    with pytest.raises(Conflict):
        mark_reported(session, owner, slug, incident.id, "again")


def test_only_overseers_record_incidents_and_only_against_releases_that_ran(session):
    _owner, slug, release = live_product(session)
    with pytest.raises(Forbidden):
        record_incident(session, make_user(session, Role.ci)[0], slug, create())
    admin = make_user(session, Role.admin)[0]
    with pytest.raises(Invalid) as refused:
        record_incident(session, admin, slug, create(release=release.number + 5))
    assert refused.value.problems[0].field == "release"
    with pytest.raises(Invalid, match="future"):
        record_incident(session, admin, slug, create(aware_at=utcnow() + timedelta(days=1)))
