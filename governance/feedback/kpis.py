"""KPIs of a product in production, per release and over time, from its feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from governance.catalog.models import Product
from governance.feedback import repository as repo
from governance.feedback.models import Feedback
from governance.kernel.db import utcnow
from governance.releases.models import ReleaseState

KPI_NAMES = ("volume", "satisfaction", "override_rate", "comments")
COMMENTS_SHOWN = 10
SERIES_DAYS = 30


@dataclass(frozen=True)
class KpiSet:
    """What a body of feedback says: how much, how satisfied, how often a human overrode, how much to read."""

    volume: int = 0
    satisfaction: float | None = None
    rated: int = 0
    override_rate: float | None = None
    judged: int = 0
    comments: int = 0

    def value(self, kpi: str) -> float | None:
        return float(getattr(self, kpi)) if getattr(self, kpi) is not None else None


def kpi_set(row: repo.KpiRow) -> KpiSet:
    volume, mean, rated, overrode, judged, commented = row
    return KpiSet(
        volume=volume,
        satisfaction=mean,
        rated=rated,
        override_rate=overrode / judged if judged else None,
        judged=judged,
        comments=commented,
    )


@dataclass(frozen=True)
class ReleaseKpis:
    number: int
    state: str
    went_live_at: datetime | None
    kpis: KpiSet


@dataclass(frozen=True)
class DayPoint:
    day: date
    kpis: KpiSet


@dataclass
class ProductKpis:
    releases: list[ReleaseKpis]
    """Every release that went live, newest first."""
    current: ReleaseKpis | None
    """The live release (or the last one that was live)."""
    previous: ReleaseKpis | None
    """The release live before ``current``, to compare with."""
    comments: list[Feedback] = field(default_factory=list)
    """The newest comments on ``current``."""
    days: list[DayPoint] = field(default_factory=list)
    """One point per day over the last ``SERIES_DAYS`` days, oldest first."""

    def change(self, kpi: str) -> float | None:
        """``current`` minus ``previous`` for one KPI, when both have a value."""
        if self.current is None or self.previous is None:
            return None
        now, before = self.current.kpis.value(kpi), self.previous.kpis.value(kpi)
        return None if now is None or before is None else now - before


def kpis_since(session: Session, product: Product, since: datetime) -> KpiSet:
    return kpi_set(repo.kpi_row_since(session, product.id, since))


def _days(session: Session, product: Product, now: datetime) -> list[DayPoint]:
    first = (now - timedelta(days=SERIES_DAYS - 1)).date()
    start = datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)
    buckets: dict[date, list[tuple[float | None, str | None, bool]]] = {
        first + timedelta(days=i): [] for i in range(SERIES_DAYS)
    }
    for at, score, action, commented in repo.feedback_facts_since(session, product.id, start):
        buckets.setdefault(at.date(), []).append((score, action, commented))
    points = []
    for day, items in sorted(buckets.items()):
        scores = [score for score, _, _ in items if score is not None]
        judged = [action for _, action, _ in items if action is not None]
        row: repo.KpiRow = (
            len(items),
            sum(scores) / len(scores) if scores else None,
            len(scores),
            sum(1 for action in judged if action == "overrode"),
            len(judged),
            sum(1 for _, _, commented in items if commented),
        )
        points.append(DayPoint(day, kpi_set(row)))
    return points


def product_kpis(session: Session, product: Product) -> ProductKpis:
    """The product's KPIs per release that went live, the live one against the one before, and the last 30 days."""
    releases = repo.production_releases(session, product.id)
    rows = repo.kpi_rows_by_release(session, [release.id for release in releases])
    per_release = [
        ReleaseKpis(
            number=release.number,
            state=release.state,
            went_live_at=release.state_changed_at if release.state == ReleaseState.live.value else None,
            kpis=kpi_set(rows.get(release.id, (0, None, 0, 0, 0, 0))),
        )
        for release in reversed(releases)
    ]
    live_index = next((i for i, item in enumerate(per_release) if item.state == ReleaseState.live.value), 0)
    current = per_release[live_index] if per_release else None
    previous = per_release[live_index + 1] if len(per_release) > live_index + 1 else None
    comments = []
    if current is not None:
        current_release = next(r for r in releases if r.number == current.number)
        comments = repo.latest_comments(session, current_release.id, COMMENTS_SHOWN)
    return ProductKpis(
        releases=per_release,
        current=current,
        previous=previous,
        comments=comments,
        days=_days(session, product, utcnow()),
    )
