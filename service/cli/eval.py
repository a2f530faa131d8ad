"""``steward eval``: run eval suites locally, with no server and no database."""

from __future__ import annotations

import typer

eval_app = typer.Typer(help="Run eval suites locally and in CI.", no_args_is_help=True)
