"""after go-live: feedback, KPI alerts, incidents, re-certification

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = governance.kernel.db.UTCDateTime(timezone=True)

# What each tier's policy asks of a product after go-live (admins change them with PATCH /policies/{tier}).
POLICY_DEFAULTS = {
    "high": ([{"kpi": "override_rate", "max": 0.2, "window_days": 7, "min_volume": 10}], 180),
    "limited": ([{"kpi": "override_rate", "max": 0.3, "window_days": 14, "min_volume": 10}], 365),
    "minimal": ([], None),
}


def upgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kpi_thresholds", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("suspend_on_threshold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("recertify_days", sa.Integer(), nullable=True))
    policies = sa.table(
        "policies",
        sa.column("risk_tier", sa.String),
        sa.column("kpi_thresholds", sa.JSON),
        sa.column("recertify_days", sa.Integer),
    )
    for tier, (thresholds, days) in POLICY_DEFAULTS.items():
        op.execute(
            policies.update().where(policies.c.risk_tier == tier).values(kpi_thresholds=thresholds, recertify_days=days)
        )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=16), nullable=False, server_default="release"))

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("release_number", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rating", sa.String(length=8), nullable=True),
        sa.Column("human_action", sa.String(length=16), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("redactions", sa.Integer(), nullable=False),
        sa.Column("texts_deleted_at", UTC, nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_feedback_product_id_products")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_feedback_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_product_created", "feedback", ["product_id", "created_at"], unique=False)
    op.create_index("ix_feedback_release", "feedback", ["release_id"], unique=False)

    op.create_table(
        "kpi_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("release_number", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.JSON(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_kpi_alerts_product_id_products")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_kpi_alerts_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_alerts")),
    )
    op.create_index("ix_kpi_alerts_product_open", "kpi_alerts", ["product_id", "acknowledged_at"], unique=False)

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("release_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("affected", sa.Text(), nullable=False),
        sa.Column("product_suspended", sa.Boolean(), nullable=False),
        sa.Column("aware_at", UTC, nullable=False),
        sa.Column("deadline_at", UTC, nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.Column("reported_at", UTC, nullable=True),
        sa.Column("reported_by", sa.String(length=64), nullable=True),
        sa.Column("authority_reference", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_incidents_product_id_products")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_incidents_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_product", "incidents", ["product_id"], unique=False)
    op.create_index(op.f("ix_incidents_release_id"), "incidents", ["release_id"], unique=False)

    op.create_table(
        "recertifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("run_ids", sa.JSON(), nullable=False),
        sa.Column("failing_cases", sa.JSON(), nullable=False),
        sa.Column("cut_release_id", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["cut_release_id"], ["releases.id"], name=op.f("fk_recertifications_cut_release_id_releases")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_recertifications_product_id_products")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], name=op.f("fk_recertifications_release_id_releases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recertifications")),
    )
    op.create_index(op.f("ix_recertifications_product_id"), "recertifications", ["product_id"], unique=False)
    op.create_index("ix_recertifications_release", "recertifications", ["release_id"], unique=False)


def downgrade() -> None:
    op.drop_table("recertifications")
    op.drop_table("incidents")
    op.drop_table("kpi_alerts")
    op.drop_table("feedback")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("recertify_days")
        batch_op.drop_column("suspend_on_threshold")
        batch_op.drop_column("kpi_thresholds")
