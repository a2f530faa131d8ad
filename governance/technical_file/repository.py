"""Every query of technical files, and the few rows of other packages a file reads that no reader offers."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.models import AuditEvent
from governance.incidents.models import Incident
from governance.releases.models import Release
from governance.technical_file.models import FrozenTechnicalFile


def frozen_file(session: Session, release_id: int) -> FrozenTechnicalFile | None:
    return session.scalar(select(FrozenTechnicalFile).where(FrozenTechnicalFile.release_id == release_id))


def frozen_before(session: Session, cutoff: datetime) -> list[FrozenTechnicalFile]:
    """Files frozen before ``cutoff`` whose content is still kept, oldest first."""
    query = select(FrozenTechnicalFile).where(
        FrozenTechnicalFile.frozen_at < cutoff, FrozenTechnicalFile.purged_at.is_(None)
    )
    return list(session.scalars(query.order_by(FrozenTechnicalFile.frozen_at, FrozenTechnicalFile.id)))


def users_by_name(session: Session, names: Collection[str]) -> dict[str, User]:
    if not names:
        return {}
    return {user.name: user for user in session.scalars(select(User).where(User.name.in_(sorted(names))))}


def incidents_of_releases(session: Session, release_ids: Collection[int]) -> list[Incident]:
    if not release_ids:
        return []
    query = select(Incident).where(Incident.release_id.in_(sorted(release_ids)))
    return list(session.scalars(query.order_by(Incident.aware_at, Incident.id)))


def release_by_number(session: Session, product_id: int, number: int) -> Release | None:
    return session.scalar(select(Release).where(Release.product_id == product_id, Release.number == number))


def release_numbers(session: Session, product_id: int) -> list[int]:
    """Every release number of a product, newest first."""
    query = select(Release.number).where(Release.product_id == product_id).order_by(Release.number.desc())
    return list(session.scalars(query))


def latest_event(session: Session, action: str, subject: str) -> AuditEvent | None:
    """The newest audit event of ``action`` on ``subject`` (who took a release live, and when)."""
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject == subject)
    return session.scalar(query.order_by(AuditEvent.seq.desc()).limit(1))
