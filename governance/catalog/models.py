"""Tables of the catalog: products, components and their immutable versions, links."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from governance.accounts.models import User
from governance.kernel.db import Base, EnumText, UTCDateTime, utcnow


class RiskTier(enum.StrEnum):
    minimal = "minimal"
    limited = "limited"
    high = "high"


class Lifecycle(enum.StrEnum):
    draft = "draft"
    active = "active"
    retired = "retired"


class ComponentKind(enum.StrEnum):
    prompt = "prompt"
    suite = "suite"
    document = "document"
    process = "process"

    @property
    def owned_by_product(self) -> bool:
        return self in (ComponentKind.prompt, ComponentKind.suite)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    intended_purpose: Mapped[str] = mapped_column(Text, default="")
    risk_tier: Mapped[RiskTier] = mapped_column(EnumText(RiskTier))
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    lifecycle: Mapped[Lifecycle] = mapped_column(EnumText(Lifecycle), default=Lifecycle.draft)
    # The declared HR use (catalog.schemas.DeclaredUse): governance.compliance classifies the product by it.
    declared_use: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship(lazy="joined")


class Component(Base):
    """A prompt or suite (owned by one product) or a document or process (shared, with its own owner)."""

    __tablename__ = "components"
    __table_args__ = (
        # Prompts and suites are named within their product; documents and processes are global slugs.
        Index(
            "uq_components_product_kind_name",
            "product_id",
            "kind",
            "name",
            unique=True,
            sqlite_where=text("product_id IS NOT NULL"),
            postgresql_where=text("product_id IS NOT NULL"),
        ),
        Index(
            "uq_components_shared_kind_name",
            "kind",
            "name",
            unique=True,
            sqlite_where=text("product_id IS NULL"),
            postgresql_where=text("product_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ComponentKind] = mapped_column(EnumText(ComponentKind))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    head_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(lazy="joined")


class ComponentVersion(Base):
    """An immutable snapshot of a component's content. Rows are inserted, never updated or deleted."""

    __tablename__ = "component_versions"
    __table_args__ = (UniqueConstraint("component_id", "number", name="uq_component_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text, default="")

    author: Mapped[User] = relationship(lazy="joined")


@event.listens_for(ComponentVersion, "before_update")
def _refuse_version_update(mapper: Mapper[ComponentVersion], connection: Connection, target: ComponentVersion) -> None:
    raise RuntimeError(f"component version {target.id} is immutable")


@event.listens_for(ComponentVersion, "before_delete")
def _refuse_version_delete(mapper: Mapper[ComponentVersion], connection: Connection, target: ComponentVersion) -> None:
    raise RuntimeError(f"component version {target.id} is immutable")


class ProductLink(Base):
    """Product → document or product → process: the edges impact analysis walks from the product side."""

    __tablename__ = "product_links"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), primary_key=True, index=True)


class ProcessDocument(Base):
    """Process → document, as the process's head version references it."""

    __tablename__ = "process_documents"

    process_id: Mapped[int] = mapped_column(ForeignKey("components.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("components.id"), primary_key=True, index=True)
