"""Impact: pick a document or process and see the products a change to it would touch, and through what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from governance.catalog.components import list_shared
from governance.catalog.impact import ImpactedProduct, impacted_by_kind
from governance.catalog.models import ComponentKind
from governance.kernel.errors import Invalid
from governance.kernel.unit_of_work import UnitOfWork
from service.api.deps import DbSession
from service.web.routing import WebRoute, WebUser, render_page

if TYPE_CHECKING:
    from governance.catalog.models import Component

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CHOICES_SHOWN = 500
SHARED_KINDS = (ComponentKind.document, ComponentKind.process)


@dataclass(frozen=True)
class Impact:
    component: Component
    products: list[ImpactedProduct]


@dataclass(frozen=True)
class ImpactPage:
    choices: dict[str, list[str]]
    """Document and process names to pick from, by kind."""
    selected: str
    """The picked component as ``kind:slug``, or empty."""
    result: Impact | None


def present_impact(session: UnitOfWork, component: str) -> ImpactPage:
    result = None
    if component:
        kind_name, _, slug = component.partition(":")
        if kind_name not in {kind.value for kind in SHARED_KINDS} or not slug:
            raise Invalid("choose a document or a process", field="component")
        found, products = impacted_by_kind(session, ComponentKind(kind_name), slug)
        result = Impact(component=found, products=products)
    choices = {
        kind.value: [c.name for c in list_shared(session, kind, after=0, limit=CHOICES_SHOWN).items]
        for kind in SHARED_KINDS
    }
    return ImpactPage(choices=choices, selected=component, result=result)


@router.get("/impact")
def impact_page(
    request: Request,
    session: DbSession,
    user: WebUser,
    component: Annotated[str, Query(description="kind:slug of a document or process")] = "",
) -> HTMLResponse:
    """Pick a document or process and see the products a change to it would touch, and through what."""
    return render_page(request, "impact.html", present_impact(session, component))
