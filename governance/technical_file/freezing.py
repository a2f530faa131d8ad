"""Freezing a release's technical file when it goes live, and reading a file back: frozen, or as it stands.

When a release goes live (``ReleaseWentLive``, in the go-live transaction) its file is assembled, stored as
canonical JSON with the SHA-256 of exactly those bytes, and an audit event records the hash. From then on the
file served for that release is the stored one: KPIs may move and incidents may be recorded, but the file does
not change. What happened in production since is an appendix computed live each time, outside the hash.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from governance.audit.events import actor_name
from governance.audit.trail import record_event
from governance.kernel.canonical import canonical_json
from governance.kernel.db import utcnow
from governance.kernel.errors import NotFound
from governance.kernel.events import subscribe
from governance.releases.events import ReleaseWentLive
from governance.releases.models import Release, ReleaseState
from governance.releases.reading import get_release
from governance.technical_file import repository
from governance.technical_file.assembling import assemble, incident_entries, release_kpis
from governance.technical_file.models import FrozenTechnicalFile
from governance.technical_file.schemas import (
    Frozen,
    Retention,
    SinceGoLive,
    TechnicalFile,
    TechnicalFileDocument,
)

FROZEN_ACTION = "technical_file.frozen"
DEFAULT_RETENTION_YEARS = 10


def canonical_content(file: TechnicalFile) -> str:
    """The one serialisation of a file that is stored and hashed."""
    return canonical_json(file.model_dump(mode="json"))


def sha256_of(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def add_years(moment: datetime, years: int) -> datetime:
    """The same day ``years`` later; 29 February becomes 28 February in a year without one."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@subscribe(ReleaseWentLive)
def freeze_on_go_live(session: Session, event: ReleaseWentLive) -> None:
    """The release just went live: its technical file is frozen in the same transaction, its hash audited."""
    freeze(session, event.release, actor=actor_name(event.actor))


def freeze(session: Session, release: Release, *, actor: str) -> FrozenTechnicalFile:
    """Store ``release``'s file as it stands and record its hash in the audit trail (once: a frozen file stays)."""
    existing = repository.frozen_file(session, release.id)
    if existing is not None:
        return existing
    file = assemble(session, release)
    content = canonical_content(file)
    digest = sha256_of(content)
    event = record_event(
        session,
        actor=actor,
        action=FROZEN_ACTION,
        subject_type="release",
        subject=f"{file.product}#{release.number}",
        product_slug=file.product,
        after={"release_id": release.id, "sha256": digest, "format": file.format},
        reason=f"release {release.number} went live: its technical file is frozen",
    )
    row = FrozenTechnicalFile(
        release_id=release.id,
        product_slug=file.product,
        release_number=release.number,
        content=content,
        sha256=digest,
        frozen_at=event.occurred_at,
        frozen_by=actor,
        audit_seq=event.seq,
    )
    session.add(row)
    session.flush()
    return row


def technical_file(
    session: Session, release_id: int, *, retention_years: int = DEFAULT_RETENTION_YEARS
) -> TechnicalFileDocument:
    """A release's technical file: the frozen copy once it went live, else assembled now (a draft).

    Raises:
        NotFound: no such release, or its frozen file was purged after the retention period.
    """
    release = get_release(session, release_id)
    row = repository.frozen_file(session, release.id)
    if row is not None and row.content is None:
        purged = f"{row.purged_at:%Y-%m-%d}" if row.purged_at else "an unknown date"
        raise NotFound(
            f"the technical file of release {row.release_number} of '{row.product_slug}' (sha256 {row.sha256}) was "
            f"purged on {purged} by {row.purged_by} after its retention period"
        )
    if row is None:
        return TechnicalFileDocument(
            release_id=release.id,
            status="draft",
            frozen=None,
            retention=Retention(years=retention_years, keep_until=None),
            file=assemble(session, release),
            since_go_live=_since_go_live(session, release, None),
        )
    assert row.content is not None  # a purged file was refused above
    file = TechnicalFile.model_validate_json(row.content)
    return TechnicalFileDocument(
        release_id=release.id,
        status="frozen",
        frozen=Frozen(sha256=row.sha256, frozen_at=row.frozen_at, frozen_by=row.frozen_by, audit_seq=row.audit_seq),
        retention=Retention(years=retention_years, keep_until=add_years(row.frozen_at, retention_years)),
        file=file,
        since_go_live=_since_go_live(session, release, row.frozen_at),
    )


def _since_go_live(session: Session, release: Release, went_live_at: datetime | None) -> SinceGoLive | None:
    """What production says about the release since it went live: computed now, never part of the frozen file."""
    if release.state not in (ReleaseState.live.value, ReleaseState.retired.value):
        return None
    return SinceGoLive(
        computed_at=utcnow(),
        went_live_at=went_live_at.astimezone(UTC) if went_live_at else None,
        kpis=release_kpis(session, [release.id])[release.id],
        incidents=incident_entries(repository.incidents_of_releases(session, [release.id])),
    )
