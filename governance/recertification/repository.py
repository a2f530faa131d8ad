"""Every query of re-certifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.catalog.models import Product
from governance.recertification.models import Recertification, RecertificationState
from governance.releases.models import OPEN_STATES, Policy, Release, ReleaseState
from governance.runs.models import CaseResultRow


def live_releases_with_recertification(session: Session) -> list[tuple[Release, Product, Policy]]:
    """Every live release whose product's policy asks for re-certification."""
    query = (
        select(Release, Product, Policy)
        .join(Product, Product.id == Release.product_id)
        .join(Policy, Policy.risk_tier == Product.risk_tier)
        .where(Release.state == ReleaseState.live.value, Policy.recertify_days.is_not(None))
        .order_by(Release.id)
    )
    return [(release, product, policy) for release, product, policy in session.execute(query)]


def last_started(session: Session, release_ids: Sequence[int]) -> dict[int, datetime]:
    query = (
        select(Recertification.release_id, func.max(Recertification.started_at))
        .where(Recertification.release_id.in_(release_ids))
        .group_by(Recertification.release_id)
    )
    return {release_id: started for release_id, started in session.execute(query)}


def running(session: Session) -> list[Recertification]:
    query = select(Recertification).where(Recertification.state == RecertificationState.running.value)
    return list(session.scalars(query.order_by(Recertification.id)))


def lock(session: Session, recertification_id: int) -> Recertification:
    query = (
        select(Recertification)
        .where(Recertification.id == recertification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one()


def of_product(session: Session, product_id: int, limit: int) -> list[Recertification]:
    query = select(Recertification).where(Recertification.product_id == product_id)
    return list(session.scalars(query.order_by(Recertification.id.desc()).limit(limit)))


def outcomes(session: Session, run_id: int) -> dict[tuple[str, int], str]:
    """(case id, repeat) -> outcome of every case execution a run recorded."""
    query = select(CaseResultRow.case_id, CaseResultRow.repeat_index, CaseResultRow.outcome).where(
        CaseResultRow.run_id == run_id
    )
    return {(case_id, repeat): outcome for case_id, repeat, outcome in session.execute(query)}


def has_open_release(session: Session, product_id: int) -> bool:
    query = select(Release.id).where(
        Release.product_id == product_id, Release.state.in_([state.value for state in OPEN_STATES])
    )
    return session.scalar(query.limit(1)) is not None


def live_release(session: Session, product_id: int) -> Release | None:
    query = select(Release).where(Release.product_id == product_id, Release.state == ReleaseState.live.value)
    return session.scalar(query)
