"""Scheduled work: due re-certifications start, finished ones settle, feedback past retention loses its texts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from governance.feedback.models import Feedback
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from governance.kernel.db import utcnow
from governance.recertification.models import Recertification, RecertificationState
from service.settings import Settings
from service.workers.celery.app import SCHEDULED_WORK_TASK, create_celery
from service.workers.scheduled import run_scheduled_work
from tests.inline_worker import run_queued_chunks
from tests.live_products import live_product


def test_scheduled_work_starts_what_is_due_and_applies_retention(session, connection):
    owner, slug, release = live_product(session)
    [old] = record_feedback(session, owner, slug, [FeedbackItem(release=release.number, comment="old", stars=2)])
    old.created_at = utcnow() - timedelta(days=31)
    release.state_changed_at = utcnow() - timedelta(days=200)
    session.flush()
    settings = Settings(feedback_retention_days=30, chunk_size=1)
    work = run_scheduled_work(connection, settings)
    assert (slug, release.number) in work.started and work.feedback_texts_deleted == 1
    assert len(work.queued_chunks) == 2  # two cases, one per chunk
    session.expire_all()
    assert session.get(Feedback, old.id).comment is None
    [recertification] = session.scalars(select(Recertification).where(Recertification.release_id == release.id)).all()
    assert recertification.state == RecertificationState.running
    run_queued_chunks(session)
    session.refresh(recertification)
    assert recertification.state == RecertificationState.held
    # Nothing is due again right after; a second pass starts nothing.
    assert (slug, release.number) not in run_scheduled_work(connection, settings).started


def test_celery_beat_sends_the_scheduled_work():
    app = create_celery(Settings(broker_url="redis://127.0.0.1:6379/9", schedule_seconds=120))
    [entry] = app.conf.beat_schedule.values()
    assert entry == {"task": SCHEDULED_WORK_TASK, "schedule": 120.0}
    assert SCHEDULED_WORK_TASK in app.tasks
