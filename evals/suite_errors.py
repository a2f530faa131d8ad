"""Errors a suite can have, each pointing at its file, line, case and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SuiteErrorDetail:
    """One problem in a suite document.

    Attributes:
        path: Where in the document, e.g. ``cases[2].asserts[0].value``.
        case_id: The id of the case the problem is in, when there is one.
        message: What is wrong, in words.
        line: 1-based line in the source file, when the format gives one (YAML does).
    """

    path: str
    case_id: str | None
    message: str
    line: int | None = None

    def display_path(self) -> str:
        """The path with the case index replaced by its id, which a reader can search for."""
        if self.case_id is None or not self.path.startswith("cases["):
            return self.path
        end = self.path.index("]")
        return f"cases[id={self.case_id}]{self.path[end + 1 :]}"


class SuiteError(Exception):
    """A suite document that cannot be used; lists every problem found, not just the first.

    Attributes:
        source: The file name (or ``<suite>``) the document came from.
        errors: Every problem found.
    """

    def __init__(self, source: str, errors: list[SuiteErrorDetail]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(self.__str__())

    def __str__(self) -> str:
        lines = []
        for err in self.errors:
            where = f"{self.source}:{err.line}" if err.line is not None else self.source
            path = err.display_path()
            lines.append(f"{where}: {path}: {err.message}" if path else f"{where}: {err.message}")
        return "\n".join(lines)
