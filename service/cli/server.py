"""``steward serve`` and ``steward db``: run the server and migrate its database."""

from __future__ import annotations

import gc

import typer

from service.cli.output import console
from service.settings import get_settings

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


def serve(
    host: str = typer.Option(None, help="Interface to bind (default: STEWARD_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: STEWARD_PORT or 8000)."),
) -> None:
    """Serve the API and the web app."""
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    print(f"Steward is serving at http://{host}:{port}  (API docs: http://{host}:{port}/docs)", flush=True)
    app = create_app(settings)
    # What start-up made (modules, the app, its routes and schemas) lives as long as the server: moved out of the
    # collector's generations, it is not traversed again by every full collection while requests wait.
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info")


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from service.migrate import current_revision
    from service.migrate import upgrade as run_upgrade

    url = get_settings().database_url
    run_upgrade(url, revision)
    console.print(f"database at revision {current_revision(url)}")


@db_app.command("current")
def current() -> None:
    """Print the database's current revision."""
    from service.migrate import current_revision

    console.print(current_revision(get_settings().database_url) or "empty (run: steward db upgrade)")
