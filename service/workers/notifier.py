"""The notification pump: delivers the outbox's due webhooks, announces overdue revalidations and writes the
periodic signed checkpoint of the audit chain (``STEWARD_AUDIT_CHECKPOINT_MINUTES``).

It runs beside the executor in the server process (both executors), in a thread of its own so a slow
webhook receiver never delays run execution. Deliveries are claimed with SKIP LOCKED on PostgreSQL, so
several servers pumping at once never send one delivery twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from governance.notifications.outbox import enqueue_overdue
from service.audit_checkpoints import sign_head, write_document
from service.database import unit_of_work
from service.secret_key import audit_chain_key
from service.settings import Settings
from service.signing_keys import signing_key
from service.workers.webhook_delivery import deliver_due

log = logging.getLogger("steward.notifications")

# Overdue revalidations change by the day; checking each minute is plenty.
OVERDUE_CHECK_SECONDS = 60.0


def announce_overdue(engine: Engine | Connection, *, now: datetime | None = None) -> int:
    """Queue ``revalidation.overdue`` events in a unit of work of their own; for periodic callers."""
    with unit_of_work(engine) as session:
        return enqueue_overdue(session, now)


CHECKPOINT_GLOB = "checkpoint-*.json"


def write_audit_checkpoint(engine: Engine | Connection, settings: Settings) -> Path:
    """Sign the audit chain's head into a new file of the checkpoint directory; the file's name says its seq."""
    with unit_of_work(engine) as session:
        signed = sign_head(session, chain_key=audit_chain_key(settings), signer=signing_key(settings))
    head = signed.checkpoint
    path = settings.resolved_audit_checkpoint_dir / f"checkpoint-{head.created_at:%Y%m%dT%H%M%S%fZ}-{head.seq}.json"
    write_document(signed, path)
    return path


def first_checkpoint_at(settings: Settings, now: float) -> float:
    """One interval after the newest checkpoint written (by any run), so restarts neither skip nor crowd them."""
    directory = settings.resolved_audit_checkpoint_dir
    newest = max((path.stat().st_mtime for path in directory.glob(CHECKPOINT_GLOB)), default=now)
    return min(newest, now) + settings.audit_checkpoint_minutes * 60


class NotificationPump:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_checkpoint: float | None = None

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

    def checkpoint_if_due(self, now: float) -> Path | None:
        """Write the audit checkpoint when its time has come (wall clock: it is compared with files' times)."""
        if self.settings.audit_checkpoint_minutes == 0:
            return None
        if self._next_checkpoint is None:
            self._next_checkpoint = first_checkpoint_at(self.settings, now)
        if now < self._next_checkpoint:
            return None
        self._next_checkpoint = now + self.settings.audit_checkpoint_minutes * 60
        return write_audit_checkpoint(self.engine, self.settings)

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
            try:
                self.checkpoint_if_due(time.time())
            except Exception:
                # A broken chain refuses a checkpoint: say so each interval, loudly, until someone looks.
                log.exception("writing the audit checkpoint failed")
            self._stopping.wait(self.settings.executor_poll_seconds)
