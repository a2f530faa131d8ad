"""After go-live, on the product page and the owner's home: KPIs with charts, alerts, incidents, re-certifications."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from governance.accounts.models import User
from governance.catalog.models import Product
from governance.feedback import repository as feedback_repo
from governance.feedback.kpis import ProductKpis, product_kpis
from governance.feedback.models import KpiAlert
from governance.incidents import repository as incidents_repo
from governance.incidents.models import Incident
from governance.kernel.db import utcnow
from governance.kernel.unit_of_work import UnitOfWork
from governance.recertification import repository as recertification_repo
from governance.recertification.models import Recertification
from service.web.charts import as_image_source, line_chart

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


def present_production(session: UnitOfWork, product: Product) -> Production:
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
    )


@dataclass(frozen=True)
class ProductionTask:
    product: Product
    task: str
    detail: str
    deadline: datetime | None = None
    overdue: bool = False


def _words(name: str) -> str:
    return name.replace("_", " ")


def production_tasks(session: UnitOfWork, user: User, products: list[Product]) -> list[ProductionTask]:
    """The owner's after-go-live tasks: KPI alerts to acknowledge, incidents to report before their deadline."""
    mine = {product.id: product for product in products if product.owner_id == user.id}
    if not mine:
        return []
    now, tasks = utcnow(), []
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
