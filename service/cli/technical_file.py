"""``steward technical-file``: purge frozen technical files older than their retention period."""

from __future__ import annotations

import typer

from service.cli.output import console, fail
from service.settings import get_settings

technical_file_app = typer.Typer(help="Releases' technical files (AI Act Annex IV).", no_args_is_help=True)


@technical_file_app.command("purge")
def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be purged; change nothing."),
    release: int | None = typer.Option(
        None, "--release", help="Purge this release's file only (by id); refused while it is within its retention."
    ),
) -> None:
    """Delete the content of frozen files older than STEWARD_TECHNICAL_FILE_RETENTION_YEARS; each purge is audited.

    The hash, when the file was frozen and when it was purged stay on record; younger files are never purged.
    """
    from governance.kernel.errors import DomainError
    from governance.technical_file.purging import purge_expired, purge_one
    from service.database import engine_for, unit_of_work

    settings = get_settings()
    years = settings.technical_file_retention_years
    try:
        with unit_of_work(engine_for(settings.database_url)) as session:
            if release is not None:
                if dry_run:
                    fail("--dry-run lists every file due for purging; leave out --release")
                found = [purge_one(session, "system", release, retention_years=years)]
            else:
                found = purge_expired(session, "system", retention_years=years, dry_run=dry_run)
    except DomainError as exc:
        field = exc.problems[0].field if exc.problems else None
        fail(f"--{field.replace('_', '-')}: {exc.detail}" if field else exc.detail)
    verb = "would purge" if dry_run else "purged"
    for item in found:
        console.print(
            f"{verb} {item.product} release {item.release} (release id {item.release_id}): frozen "
            f"{item.frozen_at:%Y-%m-%d}, kept until {item.keep_until:%Y-%m-%d}, sha256 {item.sha256}"
        )
    console.print(
        f"{len(found)} technical file(s) {verb}; files younger than {years} years "
        "(STEWARD_TECHNICAL_FILE_RETENTION_YEARS) are kept"
    )
