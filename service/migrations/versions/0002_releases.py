"""releases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:45:50.197844
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("risk_tier", sa.String(length=16), nullable=False),
        sa.Column("required_approvals", sa.Integer(), nullable=False),
        sa.Column("min_pass_rate", sa.Float(), nullable=False),
        sa.Column("required_suites", sa.JSON(), nullable=False),
        sa.Column("evidence_max_age_days", sa.Integer(), nullable=False),
        sa.Column("revalidation_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("risk_tier", name=op.f("pk_policies")),
    )
    policies = sa.table(
        "policies",
        sa.column("risk_tier", sa.String),
        sa.column("required_approvals", sa.Integer),
        sa.column("min_pass_rate", sa.Float),
        sa.column("required_suites", sa.JSON),
        sa.column("evidence_max_age_days", sa.Integer),
        sa.column("revalidation_days", sa.Integer),
        sa.column("updated_at", governance.kernel.db.UTCDateTime(timezone=True)),
        sa.column("updated_by", sa.String),
    )
    seeded_at = datetime.now(UTC)
    # Defaults per risk tier; admins change them through the API. High risk: four eyes, fresh evidence.
    op.bulk_insert(
        policies,
        [
            {
                "risk_tier": tier,
                "required_approvals": approvals,
                "min_pass_rate": pass_rate,
                "required_suites": [],
                "evidence_max_age_days": evidence,
                "revalidation_days": revalidation,
                "updated_at": seeded_at,
                "updated_by": "system",
            }
            for tier, approvals, pass_rate, evidence, revalidation in [
                ("minimal", 1, 0.8, 365, 60),
                ("limited", 1, 0.85, 180, 30),
                ("high", 2, 0.9, 90, 14),
            ]
        ],
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("manifest_hash", sa.String(length=64), nullable=False),
        sa.Column("cause", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revalidation_due_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_releases_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("product_id", "number", name="uq_releases_product_number"),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_manifest_hash"), ["manifest_hash"], unique=False)
        batch_op.create_index("ix_releases_product_state", ["product_id", "state"], unique=False)
        batch_op.create_index(
            "uq_releases_one_live",
            ["product_id"],
            unique=True,
            sqlite_where=sa.text("state = 'live'"),
            postgresql_where=sa.text("state = 'live'"),
        )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("manifest_hash", sa.String(length=64), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_decisions_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("release_id", "cycle", "reviewer", "decision", name="uq_decisions_one_per_reviewer"),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_release_id"), ["release_id"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("suite_name", sa.String(length=64), nullable=False),
        sa.Column("suite_version", sa.Integer(), nullable=False),
        sa.Column("manifest_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=300), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_runs_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_release", ["release_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_state"), ["state"], unique=False)

    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("manifest_hash", sa.String(length=64), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("waiver", sa.Text(), nullable=True),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_signoffs_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoffs")),
    )
    with op.batch_alter_table("signoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signoffs_release_id"), ["release_id"], unique=False)

    op.create_table(
        "case_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("repeat_index", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_case_results_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_results")),
        sa.UniqueConstraint("run_id", "case_id", "repeat_index", name="uq_case_results_execution"),
    )
    op.create_table(
        "run_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_chunks_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_chunks")),
        sa.UniqueConstraint("run_id", "index", name="uq_run_chunks_run_index"),
    )
    with op.batch_alter_table("run_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_run_chunks_claimable", ["state", "lease_expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_run_chunks_claimable")

    op.drop_table("run_chunks")
    op.drop_table("case_results")
    with op.batch_alter_table("signoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signoffs_release_id"))

    op.drop_table("signoffs")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_state"))
        batch_op.drop_index("ix_runs_release")

    op.drop_table("runs")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_release_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_releases_one_live", sqlite_where=sa.text("state = 'live'"), postgresql_where=sa.text("state = 'live'")
        )
        batch_op.drop_index("ix_releases_product_state")
        batch_op.drop_index(batch_op.f("ix_releases_manifest_hash"))

    op.drop_table("releases")
    op.drop_table("policies")
