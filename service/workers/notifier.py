"""The notification pump: delivers the outbox's due webhooks and announces overdue revalidations.

It runs beside the executor in the server process (both executors), in a thread of its own so a slow
webhook receiver never delays run execution. Deliveries are claimed with SKIP LOCKED on PostgreSQL, so
several servers pumping at once never send one delivery twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import Connection, Engine

from governance.notifications.outbox import enqueue_overdue
from service.database import unit_of_work
from service.settings import Settings
from service.workers.webhook_delivery import deliver_due

log = logging.getLogger("steward.notifications")

# Overdue revalidations change by the day; checking each minute is plenty.
OVERDUE_CHECK_SECONDS = 60.0


def announce_overdue(engine: Engine | Connection, *, now: datetime | None = None) -> int:
    """Queue ``revalidation.overdue`` events in a unit of work of their own; for periodic callers."""
    with unit_of_work(engine) as session:
        return enqueue_overdue(session, now)


class NotificationPump:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="steward-notifications", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=self.settings.webhook_timeout_seconds * 3)
            self._thread = None

    def pump_once(self, *, check_overdue: bool) -> int:
        if check_overdue:
            announce_overdue(self.engine)
        sent = 0
        # Drain what is due, a batch at a time, but let stop() interrupt between batches.
        while not self._stopping.is_set():
            delivered = deliver_due(self.engine, settings=self.settings)
            sent += delivered
            if delivered == 0:
                break
        return sent

    def _loop(self) -> None:
        next_overdue = 0.0
        while not self._stopping.is_set():
            try:
                check = time.monotonic() >= next_overdue
                self.pump_once(check_overdue=check)
                if check:
                    next_overdue = time.monotonic() + OVERDUE_CHECK_SECONDS
            except Exception:
                log.exception("delivering notifications failed; retrying")
            self._stopping.wait(self.settings.executor_poll_seconds)
