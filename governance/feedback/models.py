"""Tables of production feedback and of the KPI alerts its limits open."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


class HumanAction(enum.StrEnum):
    """What the person in the loop did with the output: the human oversight evidence deployers keep."""

    accepted = "accepted"
    edited = "edited"
    overrode = "overrode"


class Feedback(Base):
    """One piece of feedback on one answer of a release, its texts redacted before they were stored."""

    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_product_created", "product_id", "created_at"),
        Index("ix_feedback_release", "release_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    release_number: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    # Satisfaction on one scale: thumbs up 1.0, down 0.0; stars 1..5 as 0.0..1.0. None: no rating given.
    score: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[str | None] = mapped_column(String(8))
    human_action: Mapped[HumanAction | None] = mapped_column(EnumText(HumanAction))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    input: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    redactions: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the retention period deleted the texts; the counts above stay.
    texts_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KpiAlert(Base):
    """A policy limit on a KPI crossed over its window: a task for the owner until acknowledged."""

    __tablename__ = "kpi_alerts"
    __table_args__ = (Index("ix_kpi_alerts_product_open", "product_id", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    release_number: Mapped[int] = mapped_column(Integer)
    kpi: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[dict[str, Any]] = mapped_column(JSON)
    volume: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
