"""The table of serious incidents."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


class IncidentKind(enum.StrEnum):
    """What kind of serious incident, which sets the reporting deadline (Art. 73(2) to (4))."""

    serious = "serious"
    death = "death"
    widespread_infringement = "widespread_infringement"


class Incident(Base):
    """A serious incident of a release: a task until it is reported to the authority with their reference."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_product", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    release_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IncidentKind] = mapped_column(EnumText(IncidentKind, length=32))
    what_happened: Mapped[str] = mapped_column(Text)
    affected: Mapped[str] = mapped_column(Text)
    product_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by: Mapped[str | None] = mapped_column(String(64))
    authority_reference: Mapped[str | None] = mapped_column(String(200))
