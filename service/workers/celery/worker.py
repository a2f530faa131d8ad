"""The process `steward worker` starts: a Celery worker that executes chunks, and sweeps for lost ones.

The worker consumes the queue of :mod:`service.workers.celery.app`; its main process also runs the
:class:`~service.workers.celery.dispatch.ChunkSweeper`, so chunks whose worker died are found again
even when no server is running.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from typing import Any

from celery.signals import worker_ready, worker_shutdown

from governance.audit.sealing import install_chain_key
from service.secret_key import audit_chain_key
from service.settings import Settings
from service.workers.celery.app import RUNS_QUEUE, create_celery, worker_engine
from service.workers.celery.dispatch import ChunkSweeper


def run_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    queues: str | None = None,
    pool: str | None = None,
    loglevel: str = "info",
    beat: bool = False,
) -> None:
    """Run a Celery worker in this process until it is stopped (SIGTERM waits for running chunks)."""
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Pool processes fork from this one: import the model SDK once here, not in each process's first chunk.
    with contextlib.suppress(ImportError):
        importlib.import_module("openai")
    install_chain_key(audit_chain_key(settings))  # before the pool forks: every process seals with it
    app = create_celery(settings)
    sweeper = ChunkSweeper(worker_engine(settings.database_url), app, settings)

    def start_sweeping(**_: Any) -> None:
        sweeper.start()

    def stop_sweeping(**_: Any) -> None:
        sweeper.stop()

    # Signals are process-wide; these fire in the worker's main process, not in its pool processes.
    worker_ready.connect(start_sweeping, weak=False)
    worker_shutdown.connect(stop_sweeping, weak=False)
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--queues={queues or RUNS_QUEUE}",
        # Unique per process, so several workers on one machine do not clash.
        f"--hostname=steward-{os.getpid()}@%h",
        # Workers coordinate through the database; gossip and mingle only slow the start down.
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if pool:
        argv.append(f"--pool={pool}")
    if beat:
        argv.append("--beat")
    app.worker_main(argv)
