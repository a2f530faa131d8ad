"""technical files: a release's Annex IV file, frozen as canonical JSON with its sha256 when it goes live

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = governance.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "technical_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("product_slug", sa.String(length=64), nullable=False),
        sa.Column("release_number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("frozen_at", UTC, nullable=False),
        sa.Column("frozen_by", sa.String(length=64), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("purged_at", UTC, nullable=True),
        sa.Column("purged_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("release_id"),
    )
    op.create_index("ix_technical_files_product_slug", "technical_files", ["product_slug"], unique=False)
    op.create_index("ix_technical_files_frozen_at", "technical_files", ["frozen_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_technical_files_frozen_at", table_name="technical_files")
    op.drop_index("ix_technical_files_product_slug", table_name="technical_files")
    op.drop_table("technical_files")
