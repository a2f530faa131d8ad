"""``steward worker``: a Celery worker that executes queued runs (STEWARD_EXECUTOR=celery)."""

from __future__ import annotations

import typer

from service.cli.output import fail
from service.settings import get_settings


def worker(
    concurrency: int = typer.Option(
        None, "--concurrency", "-c", min=1, help="Chunks executed at once (pool processes); default: CPU count."
    ),
    queues: str = typer.Option(None, "--queues", "-Q", help="Comma-separated queues to consume; default: steward."),
    pool: str = typer.Option(None, "--pool", "-P", help="Celery pool: prefork (default), threads or solo."),
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="debug, info, warning or error."),
    beat: bool = typer.Option(
        False, "--beat", help="Also run Celery beat for scheduled work (re-certification); in one worker only."
    ),
) -> None:
    """Start a Celery worker that executes queued runs (needs STEWARD_BROKER_URL and the server's database)."""
    from service.workers.celery.app import BrokerNotConfigured
    from service.workers.celery.worker import run_worker

    try:
        run_worker(get_settings(), concurrency=concurrency, queues=queues, pool=pool, loglevel=loglevel, beat=beat)
    except BrokerNotConfigured as exc:
        fail(str(exc))
