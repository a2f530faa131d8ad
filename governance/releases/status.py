"""A product's status from its releases (compliant, revalidation required, no release), and the views showing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from governance.catalog import repository as components_repo
from governance.catalog.models import ComponentKind, Product
from governance.catalog.repository import ComponentHead
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
    pending_state: str | None = None
    """The pending release's state (testing, passed, signed off...), when there is one."""
    pending_since: datetime | None = None
    """When the pending release entered that state."""
    live_number: int | None = None
    """The live release's number within the product (the one people quote)."""
    pending_number: int | None = None
    """The pending release's number within the product."""


def product_statuses(session: Session, product_ids: list[int]) -> dict[int, StatusView]:
    """Status of many products in one query: live and newest non-superseded release of each."""
    result = {pid: StatusView("no_release", None, None, None, False) for pid in product_ids}
    if not product_ids:
        return result
    live: dict[int, tuple[int, int]] = {}
    newest: dict[int, tuple[int, int, str, datetime | None, datetime]] = {}
    for product_id, release_id, state, number, due, changed in releases_repo.status_rows(session, product_ids):
        if state == ReleaseState.live.value:
            live[product_id] = (release_id, number)
        newest[product_id] = (release_id, number, state, due, changed)
    now = utcnow()
    for product_id in product_ids:
        if product_id not in live:
            pending = newest.get(product_id)
            if pending is None:
                continue
            pending_id, number, state, _due, changed = pending
            result[product_id] = StatusView(
                "no_release",
                None,
                pending_id,
                None,
                False,
                pending_state=state,
                pending_since=changed,
                pending_number=number,
            )
            continue
        live_id, live_number = live[product_id]
        release_id, number, state, due, changed = newest[product_id]
        if state == ReleaseState.live.value:
            result[product_id] = StatusView("compliant", live_id, None, None, False, live_number=live_number)
        else:
            result[product_id] = StatusView(
                "revalidation_required",
                live_id,
                release_id,
                due,
                bool(due and due < now),
                pending_state=state,
                pending_since=changed,
                live_number=live_number,
                pending_number=number,
            )
    return result


def product_status(session: Session, product: Product) -> StatusView:
    return product_statuses(session, [product.id])[product.id]


def product_summary(session: Session, product: Product) -> ProductSummary:
    return product_summaries(session, [product])[0]


def product_summaries(session: Session, products: list[Product]) -> list[ProductSummary]:
    """Summaries of many products (a list page) with one status query for all of them."""
    statuses = product_statuses(session, [p.id for p in products])
    return [
        ProductSummary(
            slug=product.slug,
            name=product.name,
            owner=product.owner.name,
            risk_tier=product.risk_tier,
            lifecycle=product.lifecycle,
            **_status_fields(statuses[product.id]),
            updated_at=product.updated_at,
        )
        for product in products
    ]


def _status_fields(status: StatusView) -> dict[str, Any]:
    return {
        "status": status.status,
        "revalidation_due_at": status.revalidation_due_at,
        "overdue": status.overdue,
        "live_release": status.live_release,
        "pending_release": status.pending_release,
        "live_release_number": status.live_number,
        "pending_release_number": status.pending_number,
    }


def product_view(session: Session, product: Product) -> ProductView:
    heads = components_repo.product_component_heads(session, product.id)

    def summary(entry: ComponentHead) -> VersionSummary | None:
        if entry.number is None or entry.sha256 is None or entry.author is None or entry.created_at is None:
            return None
        return VersionSummary(
            number=entry.number,
            sha256=entry.sha256,
            author=entry.author,
            created_at=entry.created_at,
            message=entry.message or "",
        )

    def owned_of(kind: ComponentKind) -> list[ComponentView]:
        return [
            ComponentView(kind=h.component.kind, name=h.component.name, owner=None, head=summary(h))
            for h in heads
            if not h.linked and h.component.kind == kind.value
        ]

    def linked_of(kind: ComponentKind) -> list[ComponentHead]:
        return [h for h in heads if h.linked and h.component.kind == kind.value]

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
                kind=h.component.kind,
                name=h.component.name,
                owner=h.component.owner.name if h.component.owner else None,
                head=summary(h),
                title=h.title,
            )
            for h in linked_of(ComponentKind.document)
        ],
        processes=[
            LinkedProcessView(
                kind=h.component.kind,
                name=h.component.name,
                owner=h.component.owner.name if h.component.owner else None,
                head=summary(h),
                documents=h.documents or [],
            )
            for h in linked_of(ComponentKind.process)
        ],
    )
