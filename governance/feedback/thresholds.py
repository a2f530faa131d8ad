"""The policy's limits on production KPIs: a crossed limit opens a task for the owner and sends a webhook."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import record_event
from governance.catalog.models import Product, RiskTier
from governance.catalog.permissions import require_product_manager
from governance.catalog.products import get_product
from governance.feedback import repository as repo
from governance.feedback.kpis import kpis_since
from governance.feedback.models import KpiAlert
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, NotFound
from governance.releases.models import ReleaseState
from governance.releases.policies import KpiThreshold, get_policy
from governance.serving.suspension import suspend_by_policy

THRESHOLD_CROSSED = "kpi.threshold_crossed"


def crossed(threshold: KpiThreshold, value: float | None) -> bool:
    if value is None:
        return False
    if threshold.max is not None:
        return value > threshold.max
    return threshold.min is not None and value < threshold.min


def check_thresholds(session: Session, product: Product) -> list[KpiAlert]:
    """Open an alert for every limit of the product's policy its live release now crosses, unless one is open.

    Called after feedback is stored, in the same transaction: the alert, its audit event and its webhook
    commit with the feedback that crossed the limit.
    """
    policy = get_policy(session, product.risk_tier)
    if not policy.kpi_thresholds:
        return []
    live = next(
        (r for r in reversed(repo.production_releases(session, product.id)) if r.state == ReleaseState.live.value),
        None,
    )
    if live is None:
        return []
    already_open = {alert.kpi for alert in repo.open_alerts(session, [product.id])}
    now, opened = utcnow(), []
    for raw in policy.kpi_thresholds:
        threshold = KpiThreshold.model_validate(raw)
        if threshold.kpi in already_open:
            continue
        kpis = kpis_since(session, product, now - timedelta(days=threshold.window_days))
        value = kpis.value(threshold.kpi)
        counted = kpis.judged if threshold.kpi == "override_rate" else kpis.rated
        if counted < threshold.min_volume or not crossed(threshold, value):
            continue
        assert value is not None
        alert = KpiAlert(
            product_id=product.id,
            release_id=live.id,
            release_number=live.number,
            kpi=threshold.kpi,
            value=value,
            threshold=threshold.model_dump(exclude_none=True),
            volume=counted,
            opened_at=now,
            note="",
        )
        session.add(alert)
        session.flush()
        bound = f"above {threshold.max:.0%}" if threshold.max is not None else f"below {threshold.min:.0%}"
        why = f"{threshold.kpi} {value:.0%} is {bound} over {threshold.window_days} days ({counted} answers)"
        record_event(
            session,
            actor="system",
            action=THRESHOLD_CROSSED,
            subject_type="product",
            subject=product.slug,
            product_slug=product.slug,
            after={
                "release_id": live.id,
                "release": live.number,
                "alert_id": alert.id,
                "kpi": threshold.kpi,
                "value": round(value, 4),
                "threshold": alert.threshold,
                "volume": counted,
            },
            reason=why,
        )
        if policy.suspend_on_threshold and product.risk_tier == RiskTier.high:
            # The policy makes crossing a limit a stop, not only a task: the human overseer decides to resume.
            suspend_by_policy(session, product, f"the {product.risk_tier} policy stops the product: {why}")
        opened.append(alert)
    return opened


def acknowledge_alert(session: Session, actor: User, slug: str, alert_id: int, note: str) -> KpiAlert:
    """The owner (or an admin) has read the alert and says what they do about it: the task closes."""
    product = get_product(session, slug)
    require_product_manager(actor, product, action="acknowledging a KPI alert")
    alert = repo.alert_by_id(session, product.id, alert_id)
    if alert is None:
        raise NotFound(f"'{slug}' has no KPI alert {alert_id}", field="alert_id")
    if alert.acknowledged_at is not None:
        raise Conflict(f"KPI alert {alert_id} was acknowledged by {alert.acknowledged_by}", field="alert_id")
    alert.acknowledged_at, alert.acknowledged_by, alert.note = utcnow(), actor.name, note
    session.flush()
    record_event(
        session,
        actor=actor,
        action="kpi.alert_acknowledged",
        subject_type="product",
        subject=slug,
        product_slug=slug,
        after={"alert_id": alert.id, "kpi": alert.kpi},
        reason=note,
    )
    return alert
