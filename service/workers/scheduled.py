"""Scheduled work: re-certifications that are due, settling finished ones, feedback past its retention, and
revalidation of live products whose compliance evidence expired.

The embedded executor's loop calls :func:`run_scheduled_work` every ``STEWARD_SCHEDULE_SECONDS``; with
``STEWARD_EXECUTOR=celery`` Celery beat sends its task (``steward worker --beat``); ``steward recertify --due``
starts the due re-certifications at once. Running it twice at the same time starts nothing twice: a running
re-certification makes its release not due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from governance.compliance.obligations import reopen_expired
from governance.feedback.retention import delete_expired_texts
from governance.kernel.db import utcnow
from governance.recertification.scheduling import SCHEDULER, due_releases, start
from governance.recertification.settling import settle_finished
from service.database import unit_of_work
from service.settings import Settings

log = logging.getLogger("steward.schedule")


@dataclass
class ScheduledWork:
    started: list[tuple[str, int]] = field(default_factory=list)
    """(product, release number) of every re-certification started."""
    settled: int = 0
    feedback_texts_deleted: int = 0
    reopened: int = 0
    """Releases cut because an obligation's evidence expired while a release was live."""
    queued_chunks: list[int] = field(default_factory=list)


def start_due_recertifications(engine: Engine, settings: Settings, *, actor: str = SCHEDULER) -> ScheduledWork:
    work = ScheduledWork()
    with unit_of_work(engine) as session:
        session.chunk_size = settings.chunk_size
        work.settled = len(settle_finished(session))
        for release, product in due_releases(session, utcnow()):
            start(session, actor, release, product)
            work.started.append((product.slug, release.number))
        work.queued_chunks = session.take_queued_chunks()
    return work


def run_scheduled_work(engine: Engine, settings: Settings) -> ScheduledWork:
    work = start_due_recertifications(engine, settings)
    with unit_of_work(engine) as session:
        work.feedback_texts_deleted = delete_expired_texts(session, settings.feedback_retention_days)
    with unit_of_work(engine) as session:
        session.chunk_size = settings.chunk_size
        work.reopened = len(reopen_expired(session))
    if work.started or work.feedback_texts_deleted or work.reopened:
        log.info(
            "scheduled work: %s re-certifications started, %s feedback texts deleted, %s releases cut for expired "
            "compliance evidence",
            len(work.started),
            work.feedback_texts_deleted,
            work.reopened,
        )
    return work
