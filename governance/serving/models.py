"""Suspensions: a product stopped by a human overseer, and how it was started again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, UTCDateTime, utcnow


class Suspension(Base):
    """One stop of a product: who stopped it and why, and who lifted it (or which release did)."""

    __tablename__ = "suspensions"
    __table_args__ = (
        # At most one suspension in force per product, kept by the database itself.
        Index(
            "uq_suspensions_one_active",
            "product_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    suspended_by: Mapped[str] = mapped_column(String(64))
    suspended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lift_reason: Mapped[str | None] = mapped_column(Text)
