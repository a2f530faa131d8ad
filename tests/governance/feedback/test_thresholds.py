"""A KPI limit of the policy, crossed, opens a task for the owner and a webhook delivery, once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.audit.models import AuditEvent
from governance.catalog.models import RiskTier
from governance.catalog.products import get_product
from governance.feedback import repository as repo
from governance.feedback.models import HumanAction
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from governance.feedback.thresholds import acknowledge_alert
from governance.kernel.errors import Conflict, Forbidden
from governance.notifications.models import OutboxEvent
from governance.notifications.schemas import WebhookCreate
from governance.notifications.webhooks import create_webhook
from governance.releases.policies import PolicyUpdate, get_policy, update_policy
from tests.factories import make_user
from tests.live_products import live_product


def overrides(release: int, overridden: int, accepted: int) -> list[FeedbackItem]:
    return [FeedbackItem(release=release, human_action=HumanAction.overrode)] * overridden + [
        FeedbackItem(release=release, human_action=HumanAction.accepted)
    ] * accepted


def test_the_high_tier_limits_override_rate_to_20_percent_over_7_days(session):
    policy = get_policy(session, RiskTier.high.value)
    assert policy.kpi_thresholds == [{"kpi": "override_rate", "max": 0.2, "window_days": 7, "min_volume": 10}]
    assert policy.recertify_days == 180 and get_policy(session, RiskTier.minimal.value).recertify_days is None


def test_an_override_rate_above_the_limit_opens_a_task_and_a_webhook_once(session):
    owner, slug, release = live_product(session)
    admin = make_user(session, Role.admin)[0]
    create_webhook(
        session,
        admin,
        WebhookCreate(url="https://hooks.example.com/steward", events=["kpi.threshold_crossed"]),
        server_key=b"k" * 32,
    )
    product = get_product(session, slug)
    # Below the minimum volume nothing is decided, however bad the rate.
    record_feedback(session, owner, slug, overrides(release.number, 5, 0))
    assert repo.open_alerts(session, [product.id]) == []
    record_feedback(session, owner, slug, overrides(release.number, 0, 10))  # 5 of 15 overridden: 33%
    [alert] = repo.open_alerts(session, [product.id])
    assert alert.kpi == "override_rate" and alert.value == pytest.approx(1 / 3) and alert.volume == 15
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "kpi.threshold_crossed")).one()
    assert event.product_slug == slug and "above 20%" in event.reason
    session.flush()
    outbox = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "kpi.threshold_crossed")).all()
    assert len(outbox) == 1 and outbox[0].payload["release"]["number"] == release.number
    # While the task is open, more bad feedback does not open another one.
    record_feedback(session, owner, slug, overrides(release.number, 5, 0))
    assert len(repo.open_alerts(session, [product.id])) == 1
    with pytest.raises(Forbidden):
        acknowledge_alert(session, make_user(session, Role.reviewer)[0], slug, alert.id, "seen")
    acknowledge_alert(session, owner, slug, alert.id, "Prompt fix on its way (HR-7).")
    assert repo.open_alerts(session, [product.id]) == []
    with pytest.raises(Conflict):
        acknowledge_alert(session, owner, slug, alert.id, "again")


def test_a_policy_that_stops_on_a_crossed_limit_suspends_the_product_until_a_reviewer_resumes_it(session):
    from governance.kernel.errors import Locked
    from governance.serving import live
    from governance.serving.schemas import ResumeRequest
    from governance.serving.suspension import resume, suspension_view

    owner, slug, release = live_product(session)
    admin = make_user(session, Role.admin)[0]
    update_policy(session, admin, RiskTier.high, PolicyUpdate(suspend_on_threshold=True))
    assert get_product(session, slug).risk_tier == RiskTier.high
    record_feedback(session, owner, slug, overrides(release.number, 6, 9))  # 40% overridden
    stopped = suspension_view(session, owner, slug)
    assert stopped.suspended and stopped.suspended_by == "system"
    assert stopped.reason is not None and "override_rate 40% is above 20%" in stopped.reason
    with pytest.raises(Locked, match="suspended"):
        live.live_pointer(session, owner, slug)
    # Another crossing while stopped changes nothing; a reviewer (not the owner) starts it again.
    record_feedback(session, owner, slug, overrides(release.number, 5, 0))
    with pytest.raises(Forbidden):
        resume(session, owner, slug, ResumeRequest(note="I looked at it myself, all fine."))
    resume(session, make_user(session, Role.reviewer)[0], slug, ResumeRequest(note="Overrides were a UI bug."))
    assert not suspension_view(session, owner, slug).suspended


def test_a_rate_within_the_limit_opens_nothing(session):
    owner, slug, release = live_product(session)
    record_feedback(session, owner, slug, overrides(release.number, 2, 10))  # 17%
    assert repo.open_alerts(session, [get_product(session, slug).id]) == []


def test_admins_set_limits_per_tier(session):
    admin = make_user(session, Role.admin)[0]
    update_policy(
        session,
        admin,
        RiskTier.high,
        PolicyUpdate(kpi_thresholds=[{"kpi": "satisfaction", "min": 0.6, "window_days": 3, "min_volume": 5}]),
    )
    assert get_policy(session, "high").kpi_thresholds == [
        {"kpi": "satisfaction", "min": 0.6, "window_days": 3, "min_volume": 5}
    ]
    owner, slug, release = live_product(session)
    record_feedback(session, owner, slug, [FeedbackItem(release=release.number, thumbs="down")] * 5)
    [alert] = repo.open_alerts(session, [get_product(session, slug).id])
    assert alert.kpi == "satisfaction" and alert.value == 0.0
    with pytest.raises(ValueError, match="exactly one of max and min"):
        PolicyUpdate(kpi_thresholds=[{"kpi": "satisfaction", "window_days": 3}])
