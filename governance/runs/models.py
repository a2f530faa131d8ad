"""Tables of runs: runs, their chunks and their case results."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


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


class RunPurpose(enum.StrEnum):
    # Evidence a release is decided on.
    release = "release"
    # A re-run of a live release's suites on schedule: compared with its evidence, never evidence itself.
    recertification = "recertification"
    # The live release's suites on another model ("does the coach still pass on the new model?"): shown
    # beside the live model's results, never evidence.
    candidate = "candidate"


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
    purpose: Mapped[RunPurpose] = mapped_column(EnumText(RunPurpose), default=RunPurpose.release)
    state: Mapped[RunState] = mapped_column(EnumText(RunState), default=RunState.queued, index=True)
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
    state: Mapped[ChunkState] = mapped_column(EnumText(ChunkState), default=ChunkState.queued)
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
