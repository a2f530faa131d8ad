"""How the CLI speaks: rich on a terminal, plain text in CI logs; errors on stderr."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def fail(message: str, *, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)
