"""bundles: the last-applied record of each product's bundle, per component

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_applied_components",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("applied_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name=op.f("fk_bundle_applied_components_component_id_components")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_bundle_applied_components_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "component_id", name=op.f("pk_bundle_applied_components")),
    )
    with op.batch_alter_table("bundle_applied_components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundle_applied_components_component_id"), ["component_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bundle_applied_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bundle_applied_components_component_id"))

    op.drop_table("bundle_applied_components")
