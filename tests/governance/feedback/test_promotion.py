"""Feedback becomes a test: one action adds a case to a suite, which publishes a version and cuts a release."""

from __future__ import annotations

import pytest

from governance.catalog.components import find_owned, get_version
from governance.catalog.models import ComponentKind
from governance.catalog.products import get_product
from governance.feedback.promotion import promote_feedback
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem, Promotion
from governance.kernel.errors import Conflict, Invalid
from governance.releases.reading import latest_release
from governance.releases.status import product_status
from tests.live_products import live_product


def test_promoting_feedback_publishes_a_suite_version_and_cuts_a_release(session):
    owner, slug, release = live_product(session)
    [item] = record_feedback(
        session,
        owner,
        slug,
        [
            FeedbackItem(
                release=release.number,
                thumbs="down",
                comment="Promised a raise.",
                input="Will I get a raise?",
                output="Yes, 10%.",
            )
        ],
    )
    _feedback, result = promote_feedback(session, owner, slug, item.id, Promotion(suite="quality"))
    assert result.created and result.version.number == 2
    case = result.version.content["spec"]["cases"][-1]
    assert case["id"] == f"feedback-{item.id}" and case["vars"] == {"employee_message": "Will I get a raise?"}
    assert case["asserts"] == [{"type": "not-similar", "value": "Yes, 10%.", "threshold": 0.8}]
    product = get_product(session, slug)
    cut = latest_release(session, product)
    assert cut.number == release.number + 1 and cut.cause["kind"] == "suite" and cut.cause["version"] == 2
    assert product_status(session, product).status == "revalidation_required"
    with pytest.raises(Conflict, match="already has a case"):
        promote_feedback(session, owner, slug, item.id, Promotion(suite="quality"))


def test_an_expected_behaviour_becomes_the_cases_asserts(session):
    owner, slug, release = live_product(session)
    [item] = record_feedback(
        session, owner, slug, [FeedbackItem(release=release.number, input="Rate my colleague", output="3/5")]
    )
    asserts = [{"type": "refusal"}]
    promote_feedback(
        session, owner, slug, item.id, Promotion(suite="quality", mode="asserts", asserts=asserts, case_id="no-rating")
    )
    suite = find_owned(session, get_product(session, slug), ComponentKind.suite, "quality")
    assert get_version(session, suite, suite.head_number).content["spec"]["cases"][-1]["asserts"] == asserts
    with pytest.raises(Invalid) as refused:
        promote_feedback(session, owner, slug, item.id, Promotion(suite="quality", mode="asserts"))
    assert refused.value.problems[0].field == "asserts"


def test_feedback_without_an_input_cannot_become_a_case(session):
    owner, slug, release = live_product(session)
    [item] = record_feedback(session, owner, slug, [FeedbackItem(release=release.number, thumbs="down", comment="meh")])
    with pytest.raises(Conflict, match="no input"):
        promote_feedback(session, owner, slug, item.id, Promotion(suite="quality"))
