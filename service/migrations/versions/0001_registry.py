"""registry

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 23:34:47.162459
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import governance.kernel.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("occurred_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("product_slug", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_product_slug"), ["product_slug"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("intended_purpose", sa.Text(), nullable=False),
        sa.Column("risk_tier", sa.String(length=16), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_products_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_products_slug")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("head_number", sa.Integer(), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_components_owner_id_users")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_components_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_components")),
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(
            "uq_components_product_kind_name",
            ["product_id", "kind", "name"],
            unique=True,
            sqlite_where=sa.text("product_id IS NOT NULL"),
            postgresql_where=sa.text("product_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_components_shared_kind_name",
            ["kind", "name"],
            unique=True,
            sqlite_where=sa.text("product_id IS NULL"),
            postgresql_where=sa.text("product_id IS NULL"),
        )

    op.create_table(
        "component_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", governance.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_component_versions_author_id_users")),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name=op.f("fk_component_versions_component_id_components")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_versions")),
        sa.UniqueConstraint("component_id", "number", name="uq_component_versions_number"),
    )
    op.create_table(
        "process_documents",
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["components.id"], name=op.f("fk_process_documents_document_id_components")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["components.id"], name=op.f("fk_process_documents_process_id_components")
        ),
        sa.PrimaryKeyConstraint("process_id", "document_id", name=op.f("pk_process_documents")),
    )
    with op.batch_alter_table("process_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_documents_document_id"), ["document_id"], unique=False)

    op.create_table(
        "product_links",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name=op.f("fk_product_links_component_id_components")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_product_links_product_id_products")),
        sa.PrimaryKeyConstraint("product_id", "component_id", name=op.f("pk_product_links")),
    )
    with op.batch_alter_table("product_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_links_component_id"), ["component_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_links_component_id"))

    op.drop_table("product_links")
    with op.batch_alter_table("process_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_documents_document_id"))

    op.drop_table("process_documents")
    op.drop_table("component_versions")
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_components_shared_kind_name",
            sqlite_where=sa.text("product_id IS NULL"),
            postgresql_where=sa.text("product_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_components_product_kind_name",
            sqlite_where=sa.text("product_id IS NOT NULL"),
            postgresql_where=sa.text("product_id IS NOT NULL"),
        )

    op.drop_table("components")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_owner_id"))

    op.drop_table("products")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_product_slug"))
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor"))

    op.drop_table("audit_events")
