"""After go-live, on the product page and the owner's home: KPIs with charts, alerts, incidents, re-certifications."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from governance.accounts.models import User
from governance.catalog.models import Product
from governance.catalog.permissions import can_manage_product
from governance.catalog.products import get_product
from governance.feedback import repository as feedback_repo
from governance.feedback.kpis import ProductKpis, product_kpis
from governance.feedback.models import Feedback, KpiAlert
from governance.feedback.promotion import promote_feedback
from governance.feedback.schemas import Promotion
from governance.feedback.thresholds import acknowledge_alert
from governance.incidents import repository as incidents_repo
from governance.incidents.models import Incident
from governance.incidents.recording import mark_reported
from governance.kernel.db import utcnow
from governance.kernel.errors import Invalid
from governance.kernel.unit_of_work import UnitOfWork
from governance.recertification import repository as recertification_repo
from governance.recertification.models import Recertification
from governance.serving import repository as serving_repo
from service.api.deps import DbSession
from service.web.charts import as_image_source, line_chart
from service.web.routing import CsrfChecked, Web, WebRoute, WebUser, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FormText = Annotated[str, Form()]
PROMOTABLE_SHOWN = 10

RECERTIFICATIONS_SHOWN = 5

# KPI, its title, and whether it is a share (drawn from 0 to 100%).
CHARTED = (
    ("volume", "Feedback per day", False),
    ("satisfaction", "Satisfaction", True),
    ("override_rate", "Override rate", True),
    ("comments", "Comments per day", False),
)


@dataclass(frozen=True)
class Chart:
    kpi: str
    title: str
    image: str
    """A data: URL of the SVG."""
    description: str


@dataclass
class Production:
    kpis: ProductKpis
    charts: list[Chart]
    alerts: list[KpiAlert]
    incidents: list[Incident]
    recertifications: list[Recertification]
    now: datetime
    incidents_by_release: dict[int, int] = field(default_factory=dict)
    can_manage: bool = False
    """The signed-in user may acknowledge alerts and turn feedback into test cases."""
    promotable: list[Feedback] = field(default_factory=list)
    """The newest feedback with an input, which the owner can turn into a test case."""
    suites: list[str] = field(default_factory=list)


def _charts(kpis: ProductKpis) -> list[Chart]:
    days = [point.day for point in kpis.days]
    charts = []
    for kpi, title, share in CHARTED:
        values = [point.kpis.value(kpi) for point in kpis.days]
        known = [value for value in values if value is not None]
        if not known:
            description = f"{title}: nothing in the last {len(days)} days"
        elif share:
            description = f"{title} per day over the last {len(days)} days: {min(known):.0%} to {max(known):.0%}"
        else:
            description = f"{title} over the last {len(days)} days: {sum(known):.0f} in all, at most {max(known):.0f}"
        charts.append(Chart(kpi, title, as_image_source(line_chart(title, days, values, percent=share)), description))
    return charts


def present_production(session: UnitOfWork, user: User, product: Product, suites: list[str]) -> Production:
    kpis = product_kpis(session, product)
    incidents = incidents_repo.incidents_of_product(session, product.id)
    by_release: dict[int, int] = defaultdict(int)
    for incident in incidents:
        by_release[incident.release_number] += 1
    return Production(
        kpis=kpis,
        charts=_charts(kpis),
        alerts=feedback_repo.alerts_of_product(session, product.id, 20),
        incidents=incidents,
        recertifications=recertification_repo.of_product(session, product.id, RECERTIFICATIONS_SHOWN),
        now=utcnow(),
        incidents_by_release=dict(by_release),
        can_manage=can_manage_product(user, product),
        promotable=feedback_repo.latest_with_input(session, product.id, PROMOTABLE_SHOWN),
        suites=suites,
    )


@dataclass(frozen=True)
class ProductionTask:
    product: OwnedProduct
    task: str
    detail: str
    deadline: datetime | None = None
    overdue: bool = False


def _words(name: str) -> str:
    return name.replace("_", " ")


class OwnedProduct(Protocol):
    """What a task needs of a product: a loaded ``Product`` or a row of the catalogue's plain product index."""

    @property
    def id(self) -> int: ...
    @property
    def owner_id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...


def production_tasks(session: UnitOfWork, user: User, products: Sequence[OwnedProduct]) -> list[ProductionTask]:
    """The owner's after-go-live tasks: a suspension in force, KPI alerts to acknowledge, incidents to report."""
    mine = {product.id: product for product in products if product.owner_id == user.id}
    if not mine:
        return []
    now, tasks = utcnow(), []
    for stop in serving_repo.active_suspensions(session, list(mine)):
        tasks.append(
            ProductionTask(
                mine[stop.product_id],
                "suspended",
                f"stopped by {stop.suspended_by} since {stop.suspended_at:%Y-%m-%d %H:%M} UTC: {stop.reason} "
                "(a reviewer resumes it, or a new release goes live)",
            )
        )
    for incident in incidents_repo.unreported(session, list(mine)):
        tasks.append(
            ProductionTask(
                mine[incident.product_id],
                "report the incident",
                f"incident {incident.id} ({_words(incident.kind.value)}) on release {incident.release_number}",
                incident.deadline_at,
                incident.deadline_at < now,
            )
        )
    for alert in feedback_repo.open_alerts(session, list(mine)):
        tasks.append(
            ProductionTask(
                mine[alert.product_id],
                "KPI limit crossed",
                f"{_words(alert.kpi)} {alert.value:.0%} on release {alert.release_number} ({alert.volume} answers)",
            )
        )
    return tasks


def _back(web: Web, slug: str, anchor: str, text: str) -> RedirectResponse:
    web.flash("ok", text)
    return redirect(f"/products/{slug}#{anchor}")


@router.post("/products/{slug}/feedback/{feedback_id}/promote", dependencies=[CsrfChecked])
def promote(
    slug: str, feedback_id: int, session: DbSession, user: WebUser, web: Web, suite: FormText = ""
) -> RedirectResponse:
    """Turn a feedback item into a negative example in one of the product's suites."""
    try:
        request = Promotion(suite=suite, message="")
    except ValidationError as exc:
        raise Invalid(f"choose one of the product's suites, not '{suite}'", field="suite") from exc
    _feedback, result = promote_feedback(session, user, slug, feedback_id, request)
    text = f"Added feedback {feedback_id} to suite {result.component.name} (version {result.version.number})."
    return _back(web, slug, "production", text + " A release was cut to test it.")


@router.post("/products/{slug}/alerts/{alert_id}/acknowledge", dependencies=[CsrfChecked])
def acknowledge(
    slug: str, alert_id: int, session: DbSession, user: WebUser, web: Web, note: FormText = ""
) -> RedirectResponse:
    """The owner has read a KPI alert."""
    acknowledge_alert(session, user, get_product(session, slug).slug, alert_id, note[:2000])
    return _back(web, slug, "alerts", f"Acknowledged KPI alert {alert_id}.")


@router.post("/products/{slug}/incidents/{incident_id}/reported", dependencies=[CsrfChecked])
def reported(
    slug: str, incident_id: int, session: DbSession, user: WebUser, web: Web, authority_reference: FormText = ""
) -> RedirectResponse:
    """The incident was reported to the authority."""
    if not authority_reference.strip():
        raise Invalid("give the authority's reference", field="authority_reference")
    mark_reported(session, user, slug, incident_id, authority_reference.strip()[:200])
    return _back(web, slug, "incidents", f"Incident {incident_id} marked reported.")
