"""Tables of bundles: what each product's bundle last applied, per component (the last-applied record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, UTCDateTime, utcnow


class AppliedComponent(Base):
    """The content a product's bundle last applied to a component, to tell its own changes from anyone else's.

    Keyed by product as well as component: a document two teams both keep in their bundles is each team's
    to track, so a bundle never overwrites another bundle's newer version unknowingly.
    """

    __tablename__ = "bundle_applied_components"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), primary_key=True, index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    applied_by: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
