"""KPIs per release that went live, the live one compared with the one before, and a series per day."""

from __future__ import annotations

import pytest

from governance.catalog.products import get_product
from governance.feedback.kpis import SERIES_DAYS, product_kpis
from governance.feedback.models import HumanAction
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from tests.live_products import live_product, new_release_live


def test_the_live_release_is_compared_with_the_one_live_before_it(session):
    owner, slug, first = live_product(session)
    record_feedback(
        session,
        owner,
        slug,
        [
            FeedbackItem(release=first.number, thumbs="down", human_action=HumanAction.overrode, comment="wrong"),
            FeedbackItem(release=first.number, thumbs="up", human_action=HumanAction.accepted),
        ],
    )
    second = new_release_live(session, owner, slug, "Coach: {{ employee_message }}")
    record_feedback(
        session,
        owner,
        slug,
        [
            FeedbackItem(release=second.number, stars=5, human_action=HumanAction.accepted),
            FeedbackItem(release=second.number, stars=4, human_action=HumanAction.edited, comment="good"),
            FeedbackItem(release=second.number, stars=5, human_action=HumanAction.accepted),
        ],
    )
    kpis = product_kpis(session, get_product(session, slug))
    assert [(r.number, r.state) for r in kpis.releases] == [(second.number, "live"), (first.number, "retired")]
    assert kpis.current.number == second.number and kpis.previous.number == first.number
    assert kpis.current.kpis.volume == 3 and kpis.previous.kpis.volume == 2
    assert kpis.current.kpis.override_rate == 0.0 and kpis.previous.kpis.override_rate == 0.5
    assert kpis.current.kpis.satisfaction == pytest.approx((1 + 0.75 + 1) / 3)
    assert kpis.change("override_rate") == -0.5 and kpis.change("volume") == 1
    assert [c.comment for c in kpis.comments] == ["good"]
    assert len(kpis.days) == SERIES_DAYS and kpis.days[-1].kpis.volume == 5


def test_a_product_without_feedback_has_empty_kpis(session):
    _owner, slug, _release = live_product(session)
    kpis = product_kpis(session, get_product(session, slug))
    assert kpis.current.kpis.volume == 0 and kpis.current.kpis.satisfaction is None and kpis.previous is None
    assert kpis.change("volume") is None
