"""Feedback texts are kept for a retention period; then they are deleted and only the counts remain."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from governance.audit.trail import record_event
from governance.feedback import repository as repo
from governance.kernel.db import utcnow


def delete_expired_texts(session: Session, retention_days: int) -> int:
    """Delete comments, inputs and outputs older than ``retention_days``; returns how many items lost them."""
    now = utcnow()
    deleted = repo.delete_texts_before(session, now - timedelta(days=retention_days), now)
    if deleted:
        record_event(
            session,
            actor="system",
            action="feedback.texts_deleted",
            subject_type="feedback",
            subject="retention",
            after={"items": deleted, "retention_days": retention_days},
        )
    return deleted
