"""Tables of compliance: classification versions, obligation evidence, lint findings of document versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, UTCDateTime, utcnow


class ClassificationVersion(Base):
    """One classification of a product, numbered like a component's versions: a new one per re-classification."""

    __tablename__ = "classification_versions"
    __table_args__ = (UniqueConstraint("product_id", "number", name="uq_classification_versions_product_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    number: Mapped[int] = mapped_column(Integer)
    declared_use: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    intended_purpose: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(16))
    risk_tier: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    tier_justification: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObligationEvidence(Base):
    """Evidence that a product meets one obligation; the newest row per product and obligation counts."""

    __tablename__ = "obligation_evidence"
    __table_args__ = (Index("ix_obligation_evidence_product_obligation", "product_id", "obligation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    obligation: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the evidence expired while a release was live and a release was cut for revalidation.
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentFindings(Base):
    """What the document lint found in one document version when it was published."""

    __tablename__ = "document_findings"

    version_id: Mapped[int] = mapped_column(ForeignKey("component_versions.id"), primary_key=True)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
