"""The JSON report: the versioned :class:`Report` format, written and read back."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from evals.results import REPORT_FORMAT_VERSION, Report


def write_json(report: Report, path: str | Path) -> None:
    """Write ``report`` as JSON (UTF-8, indented for diffs)."""
    Path(path).write_text(report.model_dump_json(indent=2), encoding="utf-8")


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
