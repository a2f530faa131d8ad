"""The ``steward`` console script: the typer app (service.cli) inside the process's own start-up and exit.

The collector is switched off before the app is imported, and a one-shot command's exit skips the interpreter's
teardown (service.process says why).
"""

from __future__ import annotations

from service.process import defer_collection, exit_without_teardown


def main() -> None:
    """The ``steward`` console script."""
    defer_collection()
    from service.cli import app, one_shot_command

    try:
        app()
    except SystemExit as stop:
        if one_shot_command():
            exit_without_teardown(stop.code)
        raise
