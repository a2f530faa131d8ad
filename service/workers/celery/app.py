"""The Celery application: one task per chunk, executed by :func:`~service.workers.execute.execute_chunk`.

Delivery is at least once and the database, not the broker, decides who executes a chunk: the task
only asks :func:`~service.workers.execute.execute_chunk` to lease it, so a duplicate message finds
the chunk leased or finished and does nothing. Tasks are acknowledged late and rejected back to the
queue when their worker process dies; a worker that dies altogether (SIGKILL, a lost machine) leaves
a lease that expires, and a sweep (in the server, and in every worker) queues the chunk again.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from celery import Celery
from sqlalchemy import Engine

from service.database import make_engine
from service.settings import Settings
from service.workers.execute import execute_chunk, new_worker_id

RUNS_QUEUE = "steward"
EXECUTE_CHUNK_TASK = "steward.execute_chunk"
SCHEDULED_WORK_TASK = "steward.scheduled_work"


class BrokerNotConfigured(RuntimeError):
    """STEWARD_EXECUTOR=celery or `steward worker` without STEWARD_BROKER_URL."""


def create_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings``: used to send tasks from the server and to run them in workers."""
    if settings.broker_url is None:
        raise BrokerNotConfigured(
            "STEWARD_EXECUTOR=celery and `steward worker` need STEWARD_BROKER_URL (redis://... or amqp://...)"
        )
    app = Celery("steward", broker=settings.broker_url.get_secret_value(), set_as_current=False)
    app.conf.update(
        task_default_queue=RUNS_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A chunk's message goes back to the queue unless its execution finished, even if the process died.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One chunk at a time per process: a prefetched message would wait behind a long chunk.
        worker_prefetch_multiplier=1,
        # A broker blip must not kill running chunks: a redelivered duplicate finds the chunk leased and does nothing.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        # A worker outlives any broker outage: it keeps reconnecting instead of exiting after Celery's default
        # 100 attempts. Nothing waits on it meanwhile: queued chunks stay in the database.
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
    )
    app.steward_settings = settings
    # Celery beat (`steward worker --beat`) sends the scheduled work: due re-certifications, feedback retention.
    app.conf.beat_schedule = {
        "steward-scheduled-work": {"task": SCHEDULED_WORK_TASK, "schedule": settings.schedule_seconds}
    }

    # shared=False: the tasks belong to this app only. Celery's default also registers them for every app made
    # later in the process, where a second app's own tasks of the same name clash with them.
    @app.task(name=SCHEDULED_WORK_TASK, ignore_result=True, shared=False)
    def scheduled_work_task() -> None:
        from service.workers.scheduled import run_scheduled_work

        worker_settings: Settings = app.steward_settings
        run_scheduled_work(worker_engine(worker_settings.database_url), worker_settings)

    @app.task(
        name=EXECUTE_CHUNK_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, shared=False
    )
    def execute_chunk_task(task: Any, chunk_id: int) -> bool:
        worker_settings: Settings = task.app.steward_settings
        return execute_chunk(worker_engine(worker_settings.database_url), chunk_id, new_worker_id(), worker_settings)

    return app


_engines: dict[str, tuple[int, Engine]] = {}
_engines_lock = threading.Lock()


def worker_engine(url: str) -> Engine:
    """This process's engine: a pool process forked from the main one must not share its connections."""
    with _engines_lock:
        pid, engine = _engines.get(url, (None, None))
        if engine is not None and pid != os.getpid():
            engine.dispose(close=False)  # the parent's connections stay the parent's
            engine = None
        if engine is None:
            engine = make_engine(url)
            _engines[url] = (os.getpid(), engine)
        return engine
