"""Sending chunks to Celery: the server's executor, and the sweep that the server and every worker run.

The server sends a task per chunk after the commit that queued it, from a thread of its own so a
slow or absent broker never holds up a request. The sweep covers what sending alone cannot: a chunk
whose worker died (its lease expired: queue it again and send it), and a chunk that was queued but
whose message never reached a worker (queued by the CLI while no server ran, a server that died between
commit and send, a broker that lost its messages). Such chunks are sent again when the broker's queue
is empty, which tells the sweeper that no message for them is still waiting. A duplicate message is
harmless: the chunk's lease decides who executes it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence

from celery import Celery
from celery.exceptions import OperationalError as BrokerUnreachable
from sqlalchemy import Engine

from governance.runs.execution import queued_chunk_ids, requeue_expired
from service.database import unit_of_work
from service.settings import Settings
from service.workers.celery.app import EXECUTE_CHUNK_TASK, RUNS_QUEUE, create_celery

log = logging.getLogger("steward.workers")


def broker_queue_length(app: Celery, name: str = RUNS_QUEUE) -> int | None:
    """Messages waiting in the broker's queue; None when the broker cannot say."""
    try:
        with app.connection_for_write() as connection:
            waiting: int = connection.default_channel.queue_declare(queue=name, passive=True).message_count
            return waiting
    except Exception as exc:
        # Redis and RabbitMQ both report a queue that does not exist (yet, or any more: it is empty) as NOT_FOUND.
        if "NOT_FOUND" in str(exc) or type(exc).__name__ == "NotFound":
            return 0
        log.debug("cannot read the length of broker queue %r: %s", name, exc)
        return None


class ChunkSweeper:
    """Re-queues chunks whose lease expired and re-sends queued chunks whose message was lost."""

    def __init__(self, engine: Engine, app: Celery, settings: Settings) -> None:
        self.engine = engine
        self.app = app
        self.interval = max(0.5, min(settings.lease_seconds / 2, 30.0))
        # A chunk sent this recently may be on its way to a worker that has not leased it yet.
        self.in_flight_for = max(settings.lease_seconds, 5.0)
        # Without a queue length to go by, re-send only this rarely.
        self.blind_resend_after = max(10 * settings.lease_seconds, 300.0)
        self._sent: dict[int, float] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, chunk_ids: Iterable[int]) -> None:
        """Send a task for each chunk (raises if the broker cannot be reached)."""
        now = time.monotonic()
        for chunk_id in chunk_ids:
            self.app.send_task(EXECUTE_CHUNK_TASK, args=[chunk_id], queue=RUNS_QUEUE)
            self._sent[chunk_id] = now

    def sweep(self) -> list[int]:
        """One pass; returns the chunks it sent."""
        with unit_of_work(self.engine) as session:
            requeued = requeue_expired(session)
            claimable = queued_chunk_ids(session)
        if requeued:
            log.warning("re-queued chunks whose lease expired: %s", requeued)
        waiting = [c for c in claimable if c not in requeued]
        resend = self._lost(waiting)
        to_send = list(requeued) + resend
        self.send(to_send)
        if resend:
            log.info("re-sent queued chunks no worker had picked up: %s", resend)
        # Forget chunks that are no longer waiting, so the record stays as small as the backlog.
        keep = set(claimable)
        self._sent = {c: t for c, t in self._sent.items() if c in keep}
        return to_send

    def _lost(self, waiting: list[int]) -> list[int]:
        if not waiting:
            return []
        length = broker_queue_length(self.app)
        if length:
            return []  # messages still wait in the broker: the workers are behind, nothing is lost
        now = time.monotonic()
        window = self.in_flight_for if length == 0 else self.blind_resend_after
        return [c for c in waiting if now - self._sent.get(c, float("-inf")) >= window]

    def start(self) -> None:
        """Sweep in a background thread until :meth:`stop`."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="steward-sweeper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.safe_sweep()
            self._stopping.wait(self.interval)

    def safe_sweep(self) -> None:
        try:
            self.sweep()
        except BrokerUnreachable as exc:
            log.warning("the broker is unreachable (%s); queued chunks wait in the database until it returns", exc)
        except Exception:
            log.exception("sweeping for lost chunks failed; retrying")


class CeleryExecutor:
    """The server's side of STEWARD_EXECUTOR=celery: sends chunks to the broker, and sweeps."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.app = create_celery(settings)
        self.sweeper = ChunkSweeper(engine, self.app, settings)
        self._pending: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, chunk_ids: Sequence[int]) -> None:
        if chunk_ids:
            self._pending.put(list(chunk_ids))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="steward-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        next_sweep = 0.0  # at start: whatever was queued while no server ran
        while True:
            if time.monotonic() >= next_sweep:
                self.sweeper.safe_sweep()
                next_sweep = time.monotonic() + self.sweeper.interval
            try:
                batch = self._pending.get(timeout=max(0.0, next_sweep - time.monotonic()))
            except queue.Empty:
                continue
            if batch is None:
                return
            try:
                self.sweeper.send(batch)
            except BrokerUnreachable as exc:
                log.warning("cannot send chunks %s to the broker (%s); the sweep will send them later", batch, exc)
            except Exception:
                log.exception("cannot send chunks %s to the broker; the sweep will send them later", batch)
