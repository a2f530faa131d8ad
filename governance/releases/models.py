"""Tables of releases: policies, releases, sign-offs and decisions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


class ReleaseState(enum.StrEnum):
    testing = "testing"
    passed = "passed"
    failed = "failed"
    signed_off = "signed_off"
    approved = "approved"
    live = "live"
    retired = "retired"
    superseded = "superseded"
    rejected = "rejected"


OPEN_STATES = frozenset(
    {ReleaseState.testing, ReleaseState.passed, ReleaseState.failed, ReleaseState.signed_off, ReleaseState.approved}
)


class Policy(Base):
    """What a risk tier demands before a release may go live."""

    __tablename__ = "policies"

    risk_tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    required_approvals: Mapped[int] = mapped_column(Integer)
    min_pass_rate: Mapped[float] = mapped_column(Float)
    required_suites: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence_max_age_days: Mapped[int] = mapped_column(Integer)
    revalidation_days: Mapped[int] = mapped_column(Integer)
    # After go-live: limits on production feedback (see governance.feedback.thresholds), whether crossing one
    # suspends a high-risk product, and how often the live release's suites are re-run while nothing changes.
    kpi_thresholds: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    suspend_on_threshold: Mapped[bool] = mapped_column(Boolean, default=False)
    recertify_days: Mapped[int | None] = mapped_column(Integer)
    # The offline provider answers from scripts and cannot see a prompt change: evidence from it alone may be
    # refused for approval; where it is allowed, the written reason is shown to reviewers.
    refuse_offline_evidence: Mapped[bool] = mapped_column(Boolean, default=False)
    offline_evidence_reason: Mapped[str] = mapped_column(Text, default="")
    # Compliance (governance.compliance): whether a document lint finding warns or blocks go-live, and whether an
    # editorial change's release may carry over the live release's sign-off and approvals once its suites pass.
    document_lint: Mapped[str] = mapped_column(String(8), default="warn")
    editorial_carry_over: Mapped[bool] = mapped_column(Boolean, default=False)
    # Floors on fairness suites' thresholds (evals.fairness.spec.FairnessThresholds' names): a suite may be
    # stricter, never laxer; applied when a run of a suite with a fairness block finishes.
    fairness_thresholds: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")


class Release(Base):
    """A manifest of a product on its way to employees, or there."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("product_id", "number", name="uq_releases_product_number"),
        Index("ix_releases_product_state", "product_id", "state"),
        # The database itself guarantees at most one live release per product.
        Index(
            "uq_releases_one_live",
            "product_id",
            unique=True,
            sqlite_where=text("state = 'live'"),
            postgresql_where=text("state = 'live'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[ReleaseState] = mapped_column(EnumText(ReleaseState), default=ReleaseState.testing)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_hash: Mapped[str] = mapped_column(String(64), index=True)
    cause: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revalidation_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # A re-run starts a new cycle: sign-offs and decisions only count within the cycle they were given in.
    cycle: Mapped[int] = mapped_column(Integer, default=1)


class SignOff(Base):
    """The owner's statement that a release is fit, bound to the manifest hash it was given on."""

    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    waiver: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """A reviewer's approval or rejection of a signed-off release, bound to its manifest hash."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("release_id", "cycle", "reviewer", "decision", name="uq_decisions_one_per_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
