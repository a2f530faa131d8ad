"""The table of frozen technical files: one per release that went live, its canonical JSON and the hash of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, UTCDateTime, utcnow


class FrozenTechnicalFile(Base):
    """A release's technical file as it was when the release went live: it never changes afterwards.

    ``content`` is the canonical JSON exactly as hashed, so the stored text, its ``sha256`` and the audit event
    that recorded the hash agree byte for byte. Purging after the retention period empties ``content`` and keeps
    the row (the hash, when it was frozen and when it was purged), so the audit trail still names what was kept.
    """

    __tablename__ = "technical_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), unique=True)
    product_slug: Mapped[str] = mapped_column(String(64), index=True)
    release_number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    frozen_by: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(Integer)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_by: Mapped[str | None] = mapped_column(String(64))
