"""Feedback from production: stored redacted, in batches that are all or nothing, texts deleted after retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from governance.audit.models import AuditEvent
from governance.feedback.models import Feedback, HumanAction
from governance.feedback.recording import record_feedback
from governance.feedback.retention import delete_expired_texts
from governance.feedback.schemas import FeedbackItem
from governance.kernel.errors import Invalid
from tests.live_products import live_product


def test_feedback_with_an_email_address_is_stored_redacted(session):
    owner, slug, release = live_product(session)
    [row] = record_feedback(
        session,
        owner,
        slug,
        [
            FeedbackItem(
                release=release.number,
                thumbs="down",
                human_action=HumanAction.overrode,
                comment="It told me to email anna.berg@acme.example about my bonus.",
                input="My manager is anna.berg@acme.example, phone +44 20 7946 0958",
                output="Write to anna.berg@acme.example.",
                tags=["pay"],
            )
        ],
    )
    session.expire_all()
    stored = session.get(Feedback, row.id)
    assert stored.comment == "It told me to email [email] about my bonus."
    assert stored.input == "My manager is [email], phone [phone]"
    assert stored.output == "Write to [email]."
    assert stored.redactions == 4 and stored.score == 0.0 and stored.rating == "down"
    assert "acme.example" not in repr(
        session.scalars(select(AuditEvent.after).where(AuditEvent.action == "feedback.received")).all()
    )


def test_a_batch_naming_a_release_that_never_went_live_stores_nothing(session):
    owner, slug, release = live_product(session)
    items = [FeedbackItem(release=release.number, stars=5), FeedbackItem(release=99, stars=1)]
    with pytest.raises(Invalid) as refused:
        record_feedback(session, owner, slug, items, field_prefix="items")
    assert [p.field for p in refused.value.problems] == ["items[1].release"]
    assert session.scalars(select(Feedback)).all() == []


def test_stars_and_thumbs_share_one_satisfaction_scale(session):
    owner, slug, release = live_product(session)
    rows = record_feedback(
        session,
        owner,
        slug,
        [FeedbackItem(release=release.number, stars=s) for s in (1, 3, 5)]
        + [FeedbackItem(release=release.number, thumbs="up")],
    )
    assert [row.score for row in rows] == [0.0, 0.5, 1.0, 1.0]
    with pytest.raises(ValueError, match="either thumbs or stars"):
        FeedbackItem(release=release.number, stars=2, thumbs="up")


def test_retention_deletes_texts_and_keeps_the_counts(session):
    owner, slug, release = live_product(session)
    old, new = record_feedback(
        session,
        owner,
        slug,
        [
            FeedbackItem(
                release=release.number,
                thumbs="up",
                human_action=HumanAction.accepted,
                comment="old",
                input="i",
                output="o",
            ),
            FeedbackItem(release=release.number, thumbs="up", comment="new"),
        ],
    )
    old.created_at = old.created_at - timedelta(days=91)
    session.flush()
    assert delete_expired_texts(session, retention_days=90) == 1
    session.expire_all()
    old, new = session.get(Feedback, old.id), session.get(Feedback, new.id)
    assert (old.comment, old.input, old.output) == (None, None, None) and old.texts_deleted_at is not None
    assert (old.score, old.human_action) == (1.0, HumanAction.accepted)
    assert new.comment == "new" and new.texts_deleted_at is None
    assert delete_expired_texts(session, retention_days=90) == 0
