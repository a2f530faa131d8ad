"""audit seals: the key id of the chain key that sealed each event

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 00:45:00.000000

Events already written keep ``key_id`` NULL: sealed with plain SHA-256, they still verify without the chain
key (links only), but a verification with the key accepts no unkeyed event, since anyone can recompute a
SHA-256. After upgrading, an admin runs `steward audit reseal` once: it verifies the old chain, seals every
event with the chain key and records an ``audit.resealed`` event naming the head hash it replaced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
