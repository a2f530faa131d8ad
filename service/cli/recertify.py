"""``steward recertify``: start the re-certifications that are due now."""

from __future__ import annotations

import typer

from service.cli.output import console, fail
from service.settings import get_settings


def recertify(
    due: bool = typer.Option(False, "--due", help="Start every re-certification that is due now."),
    execute: bool = typer.Option(
        False,
        "--execute",
        help="Execute the runs in this process and settle them, instead of leaving them to executors.",
    ),
) -> None:
    """Re-run live releases' suites whose policy's recertify_days have passed, and compare with go-live evidence."""
    if not due:
        fail("say which re-certifications to start: --due (the ones due now)")
    from governance.recertification.scheduling import SCHEDULER
    from service.database import engine_for
    from service.workers.execute import execute_chunk, new_worker_id
    from service.workers.scheduled import start_due_recertifications

    settings = get_settings()
    engine = engine_for(settings.database_url)
    work = start_due_recertifications(engine, settings, actor=SCHEDULER)
    if not work.started:
        console.print("no re-certification is due")
        return
    for slug, number in work.started:
        console.print(f"re-certifying {slug} release {number}")
    if execute:
        worker = new_worker_id()
        while execute_chunk(engine, None, worker, settings):
            pass
        console.print("runs executed; results are on each product's re-certifications")
    else:
        console.print(f"{len(work.queued_chunks)} chunks queued for the executor")
