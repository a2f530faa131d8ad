"""compliance: declared HR use, classification versions, obligation evidence, document findings, policy fields

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = governance.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_use", sa.JSON(), nullable=True))
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_lint", sa.String(length=8), nullable=False, server_default="warn"))
        batch_op.add_column(sa.Column("editorial_carry_over", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "classification_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("declared_use", sa.JSON(), nullable=True),
        sa.Column("intended_purpose", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("risk_tier", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("tier_justification", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_id", "number", name="uq_classification_versions_product_number"),
    )
    op.create_table(
        "obligation_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("obligation", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("reopened_at", UTC, nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_obligation_evidence_product_obligation", "obligation_evidence", ["product_id", "obligation"], unique=False
    )
    op.create_table(
        "document_findings",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("scanned_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["component_versions.id"]),
        sa.PrimaryKeyConstraint("version_id"),
    )


def downgrade() -> None:
    op.drop_table("document_findings")
    op.drop_index("ix_obligation_evidence_product_obligation", table_name="obligation_evidence")
    op.drop_table("obligation_evidence")
    op.drop_table("classification_versions")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("editorial_carry_over")
        batch_op.drop_column("document_lint")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("declared_use")
