"""The table of re-certifications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


class RecertificationState(enum.StrEnum):
    running = "running"
    # Nothing that passed when the release went live fails now.
    held = "held"
    regressed = "regressed"


class Recertification(Base):
    """One re-run of a live release's suites, compared with the evidence it went live on."""

    __tablename__ = "recertifications"
    __table_args__ = (Index("ix_recertifications_release", "release_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    state: Mapped[RecertificationState] = mapped_column(
        EnumText(RecertificationState), default=RecertificationState.running
    )
    run_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # {suite, case_id, repeat_index, outcome} of every case execution that passed at go-live and does not now.
    failing_cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The release the regression cut, which the product must now be revalidated with.
    cut_release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
