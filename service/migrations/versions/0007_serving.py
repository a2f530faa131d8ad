"""serving: runtime users' products, suspensions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("products", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("suspended_by", sa.String(length=64), nullable=False),
        sa.Column("suspended_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_suspensions_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspensions_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            "uq_suspensions_one_active",
            ["product_id"],
            unique=True,
            sqlite_where=sa.text("lifted_at IS NULL"),
            postgresql_where=sa.text("lifted_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_index("uq_suspensions_one_active")
        batch_op.drop_index(batch_op.f("ix_suspensions_product_id"))
    op.drop_table("suspensions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("products")
