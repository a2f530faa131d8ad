"""How the CLI speaks: plain text that means what it says, unwrapped in CI logs; errors on stderr.

Messages carry user content (slugs, regular expressions, diffs) that must print exactly: nothing is read as
rich markup (``[a-z0-9]`` stays ``[a-z0-9]``), and when the stream is not a terminal nothing is wrapped at 80
columns, so a CI log holds every line whole. Only the ``error:`` label is styled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:  # rich is imported on the first print: 0.15-0.2 s that `steward eval run` never needs
    from rich.text import Text


class Output:
    """A console for one stream, looked up at each print so a test runner's captured stream is honoured."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr

    def print(self, message: str | Text = "", *, style: str | None = None) -> None:
        from rich.console import Console

        console = Console(stderr=self.stderr, highlight=False, markup=False, emoji=False)
        console.print(message, style=style, soft_wrap=not console.is_terminal, overflow="ignore", crop=False)


console = Output()
errors = Output(stderr=True)


def fail(message: str, *, code: int = 1) -> NoReturn:
    from rich.text import Text

    errors.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(code)
