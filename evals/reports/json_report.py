"""The JSON report: the versioned :class:`Report` format, written and read back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from evals.results import REPORT_FORMAT_VERSION, Report
from evals.spool import ResultSpool, report_json


def write_json(report: Report, path: str | Path) -> None:
    """Write ``report`` as JSON (UTF-8, indented for diffs), one case summary and one result at a time.

    The same document as ``report.model_dump_json(indent=2)``, without building it as one string: at
    100,000 results that string alone is hundreds of megabytes. Spooled results (see
    :mod:`evals.spool`) are copied from the spool as they were written there.
    """
    shell = report.model_copy(update={"cases": [], "results": []}).model_dump_json(indent=2)
    # top-level fields are indented by two spaces; nested ones deeper, and strings escape their quotes
    head, marker, rest = shell.partition('\n  "cases": []')
    middle, marker2, tail = rest.rpartition('\n  "results": []')
    if not marker or not marker2:  # pragma: no cover - the field order is the model's
        raise AssertionError("the report shell has no cases or results field")
    results = report.results
    lines = results.json_lines() if isinstance(results, ResultSpool) else (report_json(r) for r in results)
    with Path(path).open("w", encoding="utf-8") as out:
        out.write(head + '\n  "cases": ')
        _write_list(out, (report_json(case) for case in report.cases))
        out.write(middle + '\n  "results": ')
        _write_list(out, lines)
        out.write(tail)


def _write_list(out: TextIO, items: Iterable[str]) -> None:
    """A JSON list of the report's second level: each item is already indented for it."""
    out.write("[")
    empty = True
    for item in items:
        out.write(("\n    " if empty else ",\n    ") + item)
        empty = False
    out.write("]" if empty else "\n  ]")


def read_report(path: str | Path) -> Report:
    """Read and validate a JSON report (e.g. a ``--baseline``).

    Raises:
        ValueError: The file is unreadable, not JSON, or not a version-1 report; the message names the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read report: {exc.strerror or exc}") from None
    try:
        return Report.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise ValueError(
            f"{path}: not a Steward eval report (format version {REPORT_FORMAT_VERSION}): {where}: {first['msg']}"
        ) from None
