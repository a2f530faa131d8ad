"""``steward audit``: verify the hash chain and export the trail for an auditor."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from service.cli.output import console, fail
from service.settings import get_settings

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Walk the hash chain end to end; exit 1 naming the first edited, removed or reordered event."""
    from governance.audit.reading import verify_chain
    from service.database import engine_for, unit_of_work

    with unit_of_work(engine_for(get_settings().database_url)) as session:
        result = verify_chain(session)
    if not result.ok:
        fail(
            f"audit chain broken at event {result.first_bad_seq}: {result.problem} "
            f"({result.events} events verified before it)"
        )
    console.print(f"audit chain verified: {result.events} events, head {result.head_hash or '(empty)'}")


@audit_app.command("export")
def export(
    product: str | None = typer.Option(None, "--product", help="Only events about this product slug."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
) -> None:
    """Export events as JSON lines (one event per line, with its hashes) for an auditor."""
    from governance.audit.reading import export_events
    from service.database import engine_for, unit_of_work

    handle = output.open("w", encoding="utf-8") if output else None
    count = 0
    try:
        with unit_of_work(engine_for(get_settings().database_url)) as session:
            for event in export_events(session, product=product):
                line = json.dumps(event, ensure_ascii=False, sort_keys=True)
                if handle:
                    handle.write(line + "\n")
                else:
                    print(line)
                count += 1
    finally:
        if handle:
            handle.close()
    if output:
        console.print(f"wrote {count} events to {output}")
