"""Production feedback, KPIs and KPI alerts of a product."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from governance.catalog.products import get_product
from governance.catalog.schemas import PublishView, version_view
from governance.feedback import reading, thresholds
from governance.feedback.kpis import product_kpis
from governance.feedback.models import Feedback, KpiAlert
from governance.feedback.promotion import promote_feedback
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import (
    Acknowledgement,
    FeedbackAccepted,
    FeedbackBatch,
    FeedbackItem,
    FeedbackView,
    KpiAlertView,
    Promotion,
    feedback_view,
)
from governance.feedback.views import KpisView, kpis_view
from governance.kernel.pagination import PageView
from service.api.deps import CurrentUser, CurrentUserOrRuntime, DbSession, Paging

router = APIRouter(tags=["feedback"])


def _accepted(rows: list[Feedback]) -> FeedbackAccepted:
    return FeedbackAccepted(
        accepted=len(rows), ids=[row.id for row in rows], redactions=sum(r.redactions for r in rows)
    )


@router.post(
    "/products/{slug}/feedback",
    status_code=status.HTTP_201_CREATED,
    summary="Feedback on one answer of a live (or once live) release; personal data is redacted before storing.",
)
def post_feedback(slug: str, body: FeedbackItem, session: DbSession, actor: CurrentUserOrRuntime) -> FeedbackAccepted:
    """Feedback on one answer of a live (or once live) release; personal data is redacted before storing."""
    return _accepted(record_feedback(session, actor, slug, [body]))


@router.post(
    "/products/{slug}/feedback/batch",
    status_code=status.HTTP_201_CREATED,
    summary="Up to 500 pieces of feedback at once, all stored or none.",
)
def post_feedback_batch(
    slug: str, body: FeedbackBatch, session: DbSession, actor: CurrentUserOrRuntime
) -> FeedbackAccepted:
    """Up to 500 pieces of feedback at once, all stored or none."""
    return _accepted(record_feedback(session, actor, slug, body.items, field_prefix="items"))


@router.get("/products/{slug}/feedback", summary="A product's feedback, newest first.")
def list_feedback(
    slug: str,
    session: DbSession,
    actor: CurrentUser,
    page: Paging,
    release: int | None = Query(None, ge=1, description="Only feedback on this release."),
    with_comment: bool = Query(False, description="Only feedback with a comment."),
) -> PageView[FeedbackView]:
    """A product's feedback, newest first."""
    result = reading.list_feedback(
        session, slug, before=page.after, limit=page.limit, release=release, with_comment=with_comment
    )
    return PageView(items=[feedback_view(row) for row in result.items], next=result.next)


@router.post(
    "/products/{slug}/feedback/{feedback_id}/promote",
    status_code=status.HTTP_201_CREATED,
    summary="Add a case made from this feedback to one of the product's suites (publishes its next version).",
)
def promote(slug: str, feedback_id: int, body: Promotion, session: DbSession, actor: CurrentUser) -> PublishView:
    """Add a case made from this feedback to one of the product's suites (publishes its next version)."""
    _feedback, result = promote_feedback(session, actor, slug, feedback_id, body)
    return PublishView(
        created=result.created,
        detail=f"published suite '{result.component.name}' version {result.version.number} with the new case",
        version=version_view(result.component, result.version, slug),
    )


@router.get("/products/{slug}/kpis", summary="KPIs per release that went live, the live one against the one before.")
def get_kpis(slug: str, session: DbSession, actor: CurrentUser) -> KpisView:
    """KPIs per release that went live, the live one against the one before, and the last 30 days."""
    return kpis_view(slug, product_kpis(session, get_product(session, slug)))


def _alert_view(alert: KpiAlert) -> KpiAlertView:
    return KpiAlertView(
        id=alert.id,
        kpi=alert.kpi,
        value=alert.value,
        threshold=alert.threshold,
        volume=alert.volume,
        release=alert.release_number,
        opened_at=alert.opened_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
        note=alert.note,
    )


@router.get("/products/{slug}/alerts", summary="The product's KPI alerts, newest first.")
def list_alerts(slug: str, session: DbSession, actor: CurrentUser) -> list[KpiAlertView]:
    """The product's KPI alerts, newest first."""
    return [_alert_view(alert) for alert in reading.list_alerts(session, slug)]


@router.post(
    "/products/{slug}/alerts/{alert_id}/acknowledge", summary="The owner has read a KPI alert: its task closes."
)
def acknowledge(
    slug: str, alert_id: int, body: Acknowledgement, session: DbSession, actor: CurrentUser
) -> KpiAlertView:
    """The owner has read a KPI alert: its task closes."""
    return _alert_view(thresholds.acknowledge_alert(session, actor, slug, alert_id, body.note))
