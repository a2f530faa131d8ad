"""What callers get back: one response model per noun, built from the domain's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from governance import history, releases
from governance.links import product_links
from governance.models import ApiToken, Component, ComponentKind, ComponentVersion, Product, User
from governance.repositories import components as components_repo

ProductStatus = Literal["compliant", "revalidation_required", "no_release"]
T = TypeVar("T")


class PageView(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class UserView(BaseModel):
    name: str
    display_name: str
    email: str | None
    roles: list[str]
    created_at: datetime


class TokenView(BaseModel):
    id: int
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    label: str
    created_at: datetime
    revoked_at: datetime | None


class CreatedUserView(UserView):
    token: str = Field(description="The API token. Shown once: Steward keeps only its hash.")


class VersionSummary(BaseModel):
    number: int
    sha256: str
    author: str
    created_at: datetime
    message: str


class VersionView(VersionSummary):
    kind: str
    name: str = Field(description="Prompt or suite name, or document or process slug.")
    product: str | None = Field(description="The owning product's slug, for prompts and suites.")
    content: dict[str, Any]


class PublishView(BaseModel):
    created: bool = Field(description="False when the content equals the head: no new version was made.")
    detail: str
    version: VersionView


class ComponentView(BaseModel):
    kind: str
    name: str
    owner: str | None = Field(description="Owner of a document or process; prompts and suites follow the product.")
    head: VersionSummary | None


class LinkedDocumentView(ComponentView):
    title: str | None


class LinkedProcessView(ComponentView):
    documents: list[str] = Field(description="Documents the process's head version references.")


class ModelView(BaseModel):
    provider: str
    name: str
    temperature: float
    max_tokens: int


class ProductSummary(BaseModel):
    slug: str
    name: str
    owner: str
    risk_tier: str
    lifecycle: str
    status: ProductStatus
    revalidation_due_at: datetime | None = Field(default=None, description="When revalidation is due, if it is.")
    overdue: bool = Field(default=False, description="Revalidation is past its due date.")
    live_release: int | None = None
    pending_release: int | None = None
    updated_at: datetime


class ProductView(ProductSummary):
    description: str
    intended_purpose: str
    model: ModelView
    created_at: datetime
    prompts: list[ComponentView]
    suites: list[ComponentView]
    documents: list[LinkedDocumentView]
    processes: list[LinkedProcessView]


class LinksView(BaseModel):
    documents: list[str]
    processes: list[str]


class DiffView(BaseModel):
    kind: str
    name: str
    from_version: int = Field(serialization_alias="from")
    to_version: int = Field(serialization_alias="to")
    diff: str = Field(description="Unified diff; empty when the versions are equal.")


def diff_view(session: Session, component: Component, from_version: int, to_version: int) -> DiffView:
    return DiffView(
        kind=component.kind,
        name=component.name,
        from_version=from_version,
        to_version=to_version,
        diff=history.diff_versions(session, component, from_version, to_version),
    )


def user_view(user: User) -> UserView:
    return UserView(
        name=user.name,
        display_name=user.display_name,
        email=user.email,
        roles=user.roles,
        created_at=user.created_at,
    )


def token_view(token: ApiToken) -> TokenView:
    return TokenView(
        id=token.id,
        prefix=token.prefix,
        label=token.label,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    )


def version_summary(version: ComponentVersion) -> VersionSummary:
    return VersionSummary(
        number=version.number,
        sha256=version.sha256,
        author=version.author.name,
        created_at=version.created_at,
        message=version.message,
    )


def version_view(component: Component, version: ComponentVersion, product_slug: str | None = None) -> VersionView:
    return VersionView(
        **version_summary(version).model_dump(),
        kind=component.kind,
        name=component.name,
        product=product_slug,
        content=version.content,
    )


def product_status(session: Session, product: Product) -> ProductStatus:
    return releases.product_status(session, product).status


def product_summary(session: Session, product: Product) -> ProductSummary:
    return ProductSummary(
        slug=product.slug,
        name=product.name,
        owner=product.owner.name,
        risk_tier=product.risk_tier,
        lifecycle=product.lifecycle,
        **_status_fields(releases.product_status(session, product)),
        updated_at=product.updated_at,
    )


def _status_fields(status: releases.StatusView) -> dict:
    return {
        "status": status.status,
        "revalidation_due_at": status.revalidation_due_at,
        "overdue": status.overdue,
        "live_release": status.live_release,
        "pending_release": status.pending_release,
    }


def product_view(session: Session, product: Product) -> ProductView:
    owned = components_repo.owned_by_product(session, product.id)
    links = product_links(session, product.id)
    heads = components_repo.head_versions(session, [*owned, *links.documents, *links.processes])

    def head(component: Component) -> VersionSummary | None:
        version = heads.get(component.id)
        return version_summary(version) if version else None

    def owned_of(kind: ComponentKind) -> list[ComponentView]:
        return [
            ComponentView(kind=c.kind, name=c.name, owner=None, head=head(c)) for c in owned if c.kind == kind.value
        ]

    return ProductView(
        **product_summary(session, product).model_dump(),
        description=product.description,
        intended_purpose=product.intended_purpose,
        model=ModelView(**product.model),
        created_at=product.created_at,
        prompts=owned_of(ComponentKind.prompt),
        suites=owned_of(ComponentKind.suite),
        documents=[
            LinkedDocumentView(
                kind=c.kind,
                name=c.name,
                owner=c.owner.name if c.owner else None,
                head=head(c),
                title=heads[c.id].content["title"] if c.id in heads else None,
            )
            for c in links.documents
        ],
        processes=[
            LinkedProcessView(
                kind=c.kind,
                name=c.name,
                owner=c.owner.name if c.owner else None,
                head=head(c),
                documents=heads[c.id].content["documents"] if c.id in heads else [],
            )
            for c in links.processes
        ],
    )


def shared_component_view(session: Session, component: Component) -> ComponentView:
    version = components_repo.get_version(session, component.id, component.head_number)
    return ComponentView(
        kind=component.kind,
        name=component.name,
        owner=component.owner.name if component.owner else None,
        head=version_summary(version) if version else None,
    )
