"""Purging frozen technical files once their retention period is over, and only then; every purge is audited.

The content goes; the row stays with its hash and the purge's time and actor, so the audit trail's
``technical_file.frozen`` event still points at a record of what was kept and when it was let go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from governance.audit.events import Actor, actor_name
from governance.audit.trail import begin_write, record_event
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Invalid, NotFound
from governance.technical_file import repository
from governance.technical_file.freezing import add_years
from governance.technical_file.models import FrozenTechnicalFile

PURGED_ACTION = "technical_file.purged"


@dataclass(frozen=True)
class Purgeable:
    release_id: int
    product: str
    release: int
    sha256: str
    frozen_at: datetime
    keep_until: datetime


def _cutoff(retention_years: int, now: datetime) -> datetime:
    if retention_years < 1:
        raise Invalid("the retention period is at least one year", field="retention_years")
    return add_years(now, -retention_years)


def _purgeable(row: FrozenTechnicalFile, retention_years: int) -> Purgeable:
    return Purgeable(
        release_id=row.release_id,
        product=row.product_slug,
        release=row.release_number,
        sha256=row.sha256,
        frozen_at=row.frozen_at,
        keep_until=add_years(row.frozen_at, retention_years),
    )


def _purge(session: Session, actor: Actor, row: FrozenTechnicalFile, retention_years: int, now: datetime) -> None:
    row.content = None
    row.purged_at = now
    row.purged_by = actor_name(actor)
    record_event(
        session,
        actor=actor,
        action=PURGED_ACTION,
        subject_type="release",
        subject=f"{row.product_slug}#{row.release_number}",
        product_slug=row.product_slug,
        before={"sha256": row.sha256, "frozen_at": row.frozen_at.isoformat()},
        after={"release_id": row.release_id, "purged": True},
        reason=f"older than the retention period of {retention_years} years",
    )


def purge_expired(
    session: Session, actor: Actor, *, retention_years: int, dry_run: bool, now: datetime | None = None
) -> list[Purgeable]:
    """Purge every frozen file older than the retention period (or, ``dry_run``, only say which).

    Args:
        session: The unit of work; this only flushes.
        actor: Who purges (``system`` for a scheduled purge).
        retention_years: ``STEWARD_TECHNICAL_FILE_RETENTION_YEARS``: files younger than this are never purged.
        dry_run: Only list what would be purged; nothing is changed or audited.
        now: The moment the retention is counted back from (default: now).

    Returns:
        The files purged (or that would be), oldest first.
    """
    now = now or utcnow()
    cutoff = _cutoff(retention_years, now)
    if not dry_run:
        begin_write(session)
    rows = repository.frozen_before(session, cutoff)
    if not dry_run:
        for row in rows:
            _purge(session, actor, row, retention_years, now)
        session.flush()
    return [_purgeable(row, retention_years) for row in rows]


def purge_one(
    session: Session, actor: Actor, release_id: int, *, retention_years: int, now: datetime | None = None
) -> Purgeable:
    """Purge one release's frozen file; refused while it is younger than the retention period.

    Raises:
        NotFound: the release has no frozen file, or it was purged already.
        Conflict: the file is still within its retention period.
    """
    now = now or utcnow()
    cutoff = _cutoff(retention_years, now)
    begin_write(session)
    row = repository.frozen_file(session, release_id)
    if row is None or row.content is None:
        raise NotFound(f"release {release_id} has no frozen technical file to purge", field="release")
    if row.frozen_at >= cutoff:
        keep_until = add_years(row.frozen_at, retention_years)
        raise Conflict(
            f"the technical file of release {row.release_number} of '{row.product_slug}' must be kept until "
            f"{keep_until:%Y-%m-%d} ({retention_years} years from {row.frozen_at:%Y-%m-%d}); it is not purged",
            field="release",
        )
    _purge(session, actor, row, retention_years, now)
    session.flush()
    return _purgeable(row, retention_years)
