"""The KPIs as the API returns them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from governance.feedback.kpis import KPI_NAMES, KpiSet, ProductKpis, ReleaseKpis
from governance.feedback.schemas import FeedbackView, feedback_view


class KpiSetView(BaseModel):
    volume: int = Field(description="Pieces of feedback.")
    satisfaction: float | None = Field(description="Mean rating from 0 (thumbs down, 1 star) to 1; null: no ratings.")
    rated: int
    override_rate: float | None = Field(
        description="Share of answers a human overrode, of those with a human action; null: none reported."
    )
    judged: int = Field(description="Answers with a human action (accepted, edited or overrode).")
    comments: int


class ReleaseKpisView(BaseModel):
    release: int
    state: str
    went_live_at: datetime | None
    kpis: KpiSetView


class DayView(BaseModel):
    day: date
    kpis: KpiSetView


class KpisView(BaseModel):
    product: str
    current: ReleaseKpisView | None = Field(description="The live release.")
    previous: ReleaseKpisView | None = Field(description="The release live before it.")
    change: dict[str, float | None] = Field(description="current minus previous, per KPI.")
    releases: list[ReleaseKpisView] = Field(description="Every release that went live, newest first.")
    comments: list[FeedbackView] = Field(description="The newest comments on the live release, to read.")
    days: list[DayView] = Field(description="The last 30 days, one point a day, oldest first.")


def _set(kpis: KpiSet) -> KpiSetView:
    return KpiSetView(
        volume=kpis.volume,
        satisfaction=kpis.satisfaction,
        rated=kpis.rated,
        override_rate=kpis.override_rate,
        judged=kpis.judged,
        comments=kpis.comments,
    )


def kpis_view(slug: str, kpis: ProductKpis) -> KpisView:
    def release(item: ReleaseKpis) -> ReleaseKpisView:
        return ReleaseKpisView(
            release=item.number, state=item.state, went_live_at=item.went_live_at, kpis=_set(item.kpis)
        )

    return KpisView(
        product=slug,
        current=release(kpis.current) if kpis.current else None,
        previous=release(kpis.previous) if kpis.previous else None,
        change={name: kpis.change(name) for name in KPI_NAMES},
        releases=[release(item) for item in kpis.releases],
        comments=[feedback_view(row) for row in kpis.comments],
        days=[DayView(day=point.day, kpis=_set(point.kpis)) for point in kpis.days],
    )
