"""Tables of change governance: policies, releases, runs with their chunks and case results, decisions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from governance.database import Base, UTCDateTime, utcnow


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


class RunState(enum.StrEnum):
    queued = "queued"
    running = "running"
    passed = "passed"
    failed = "failed"
    error = "error"
    cancelled = "cancelled"


FINISHED_RUN_STATES = frozenset({RunState.passed, RunState.failed, RunState.error, RunState.cancelled})


class ChunkState(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    error = "error"
    # Never executed: its release was superseded or rejected before a worker took it.
    cancelled = "cancelled"


class Policy(Base):
    """What a risk tier demands before a release may go live."""

    __tablename__ = "policies"

    risk_tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    required_approvals: Mapped[int] = mapped_column(Integer)
    min_pass_rate: Mapped[float] = mapped_column(Float)
    required_suites: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence_max_age_days: Mapped[int] = mapped_column(Integer)
    revalidation_days: Mapped[int] = mapped_column(Integer)
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
    state: Mapped[str] = mapped_column(String(16), default=ReleaseState.testing.value)
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


class Run(Base):
    """One execution of one suite version against one release's manifest with one provider."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_release", "release_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    suite_name: Mapped[str] = mapped_column(String(64))
    suite_version: Mapped[int] = mapped_column(Integer)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(300))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=RunState.queued.value, index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    planned: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunChunk(Base):
    """A slice of a run's cases: the unit a worker leases, executes and writes back."""

    __tablename__ = "run_chunks"
    __table_args__ = (
        UniqueConstraint("run_id", "index", name="uq_run_chunks_run_index"),
        Index("ix_run_chunks_claimable", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    index: Mapped[int] = mapped_column(Integer)
    case_ids: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=ChunkState.queued.value)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class CaseResultRow(Base):
    """One case execution's evidence. (run, case, repeat) is unique, so a redelivered chunk writes nothing twice."""

    __tablename__ = "case_results"
    __table_args__ = (UniqueConstraint("run_id", "case_id", "repeat_index", name="uq_case_results_execution"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    case_id: Mapped[str] = mapped_column(String(200))
    repeat_index: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
