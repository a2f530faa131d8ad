"""Every query of feedback and KPI alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from governance.feedback.models import Feedback, HumanAction, KpiAlert
from governance.kernel.pagination import Page
from governance.kernel.repository import keyset_page
from governance.releases.models import Release, ReleaseState

# Releases that have run in production: feedback may name only these.
PRODUCTION_STATES = (ReleaseState.live.value, ReleaseState.retired.value)


def releases_by_number(session: Session, product_id: int, numbers: Sequence[int]) -> dict[int, Release]:
    query = select(Release).where(Release.product_id == product_id, Release.number.in_(sorted(set(numbers))))
    return {release.number: release for release in session.scalars(query)}


def production_releases(session: Session, product_id: int) -> list[Release]:
    """The releases that went live, oldest first."""
    query = select(Release).where(Release.product_id == product_id, Release.state.in_(PRODUCTION_STATES))
    return list(session.scalars(query.order_by(Release.number)))


def feedback_by_id(session: Session, product_id: int, feedback_id: int) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.id == feedback_id, Feedback.product_id == product_id))


def feedback_page(
    session: Session, product_id: int, *, before: int, limit: int, release_number: int | None, with_comment: bool
) -> Page[Feedback]:
    """A product's feedback, newest first."""
    query = select(Feedback).where(Feedback.product_id == product_id)
    if release_number is not None:
        query = query.where(Feedback.release_number == release_number)
    if with_comment:
        query = query.where(Feedback.comment.is_not(None), Feedback.comment != "")
    return keyset_page(session, query, Feedback.id, after=before, limit=limit, newest_first=True)


def latest_comments(session: Session, release_id: int, limit: int) -> list[Feedback]:
    query = (
        select(Feedback)
        .where(Feedback.release_id == release_id, Feedback.comment.is_not(None), Feedback.comment != "")
        .order_by(Feedback.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def latest_with_input(session: Session, product_id: int, limit: int) -> list[Feedback]:
    """The newest feedback that still has an input: what could become a test case."""
    query = (
        select(Feedback)
        .where(Feedback.product_id == product_id, Feedback.input.is_not(None), Feedback.input != "")
        .order_by(Feedback.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _aggregates() -> tuple[Any, ...]:
    overrode = case((Feedback.human_action == HumanAction.overrode.value, 1), else_=0)
    judged = case((Feedback.human_action.is_not(None), 1), else_=0)
    commented = case((and_(Feedback.comment.is_not(None), Feedback.comment != ""), 1), else_=0)
    return (
        func.count(Feedback.id),
        func.avg(Feedback.score),
        func.count(Feedback.score),
        func.sum(overrode),
        func.sum(judged),
        func.sum(commented),
    )


KpiRow = tuple[int, float | None, int, int, int, int]
"""volume, mean score, rated, overridden, with a human action, with a comment."""


def _row(values: Sequence[Any]) -> KpiRow:
    volume, mean, rated, overrode, judged, commented = values
    return (
        int(volume or 0),
        float(mean) if mean is not None else None,
        int(rated or 0),
        int(overrode or 0),
        int(judged or 0),
        int(commented or 0),
    )


def kpi_rows_by_release(session: Session, release_ids: Sequence[int]) -> dict[int, KpiRow]:
    query = select(Feedback.release_id, *_aggregates()).where(Feedback.release_id.in_(release_ids))
    return {row[0]: _row(row[1:]) for row in session.execute(query.group_by(Feedback.release_id))}


def kpi_row_since(session: Session, product_id: int, since: datetime) -> KpiRow:
    query = select(*_aggregates()).where(Feedback.product_id == product_id, Feedback.created_at >= since)
    row = session.execute(query).one()
    return _row(tuple(row))


def feedback_facts_since(
    session: Session, product_id: int, since: datetime
) -> list[tuple[datetime, float | None, str | None, bool]]:
    """(created at, score, human action, has comment) of the product's feedback since ``since``: the charts' days."""
    commented = and_(Feedback.comment.is_not(None), Feedback.comment != "")
    query = (
        select(Feedback.created_at, Feedback.score, Feedback.human_action, commented)
        .where(Feedback.product_id == product_id, Feedback.created_at >= since)
        .order_by(Feedback.created_at)
    )
    return [
        (at, score, action.value if action else None, bool(has)) for at, score, action, has in session.execute(query)
    ]


def open_alerts(session: Session, product_ids: Sequence[int]) -> list[KpiAlert]:
    query = select(KpiAlert).where(KpiAlert.product_id.in_(product_ids), KpiAlert.acknowledged_at.is_(None))
    return list(session.scalars(query.order_by(KpiAlert.opened_at)))


def alerts_of_product(session: Session, product_id: int, limit: int) -> list[KpiAlert]:
    query = select(KpiAlert).where(KpiAlert.product_id == product_id).order_by(KpiAlert.id.desc()).limit(limit)
    return list(session.scalars(query))


def alert_by_id(session: Session, product_id: int, alert_id: int) -> KpiAlert | None:
    return session.scalar(select(KpiAlert).where(KpiAlert.id == alert_id, KpiAlert.product_id == product_id))


def delete_texts_before(session: Session, cutoff: datetime, now: datetime) -> int:
    """Delete the texts of feedback older than ``cutoff``; ratings, actions and tags stay for the KPIs."""
    result = session.execute(
        update(Feedback)
        .where(Feedback.created_at < cutoff, Feedback.texts_deleted_at.is_(None))
        .values(comment=None, input=None, output=None, texts_deleted_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
