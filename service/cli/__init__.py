"""The ``steward`` command line: a thin adapter over the same functions the HTTP API calls."""

from __future__ import annotations

import typer

from service.cli.eval import eval_app

app = typer.Typer(
    name="steward",
    help="Steward: lifecycle governance for AI HR products.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(eval_app, name="eval")


def main() -> None:
    app()
