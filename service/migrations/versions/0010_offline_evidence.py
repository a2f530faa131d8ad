"""offline evidence as a policy matter: refuse approval on offline-only evidence (on for high risk)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refuse_offline_evidence", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("offline_evidence_reason", sa.Text(), nullable=False, server_default=""))
    policies = sa.table("policies", sa.column("risk_tier", sa.String), sa.column("refuse_offline_evidence", sa.Boolean))
    op.execute(policies.update().where(policies.c.risk_tier == "high").values(refuse_offline_evidence=True))


def downgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("offline_evidence_reason")
        batch_op.drop_column("refuse_offline_evidence")
