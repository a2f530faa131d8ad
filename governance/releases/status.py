"""A product's status from its releases (compliant, revalidation required, no release), and the views showing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from governance.catalog import repository as components_repo
from governance.catalog.links import product_links
from governance.catalog.models import Component, ComponentKind, Product
from governance.catalog.schemas import (
    ComponentView,
    DeclaredUse,
    LinkedDocumentView,
    LinkedProcessView,
    ModelView,
    ProductStatus,
    ProductSummary,
    ProductView,
    VersionSummary,
    version_summary,
)
from governance.kernel.db import utcnow
from governance.releases import repository as releases_repo
from governance.releases.models import ReleaseState


@dataclass(frozen=True)
class StatusView:
    status: ProductStatus
    live_release: int | None
    pending_release: int | None
    revalidation_due_at: datetime | None
    overdue: bool


def product_statuses(session: Session, product_ids: list[int]) -> dict[int, StatusView]:
    """Status of many products in one query: live and newest non-superseded release of each."""
    result = {pid: StatusView("no_release", None, None, None, False) for pid in product_ids}
    if not product_ids:
        return result
    live: dict[int, int] = {}
    newest: dict[int, tuple[int, str, datetime | None]] = {}
    for product_id, release_id, state, _number, due in releases_repo.status_rows(session, product_ids):
        if state == ReleaseState.live.value:
            live[product_id] = release_id
        newest[product_id] = (release_id, state, due)
    now = utcnow()
    for product_id in product_ids:
        if product_id not in live:
            pending = newest.get(product_id)
            result[product_id] = StatusView("no_release", None, pending[0] if pending else None, None, False)
            continue
        release_id, state, due = newest[product_id]
        if state == ReleaseState.live.value:
            result[product_id] = StatusView("compliant", live[product_id], None, None, False)
        else:
            result[product_id] = StatusView(
                "revalidation_required", live[product_id], release_id, due, bool(due and due < now)
            )
    return result


def product_status(session: Session, product: Product) -> StatusView:
    return product_statuses(session, [product.id])[product.id]


def product_summary(session: Session, product: Product) -> ProductSummary:
    return ProductSummary(
        slug=product.slug,
        name=product.name,
        owner=product.owner.name,
        risk_tier=product.risk_tier,
        lifecycle=product.lifecycle,
        **_status_fields(product_status(session, product)),
        updated_at=product.updated_at,
    )


def _status_fields(status: StatusView) -> dict[str, Any]:
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
        declared_use=DeclaredUse.model_validate(product.declared_use) if product.declared_use else None,
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
