"""The JSON report: the versioned :class:`Report` format, written and read back."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from evals.results import REPORT_FORMAT_VERSION, Report


def write_json(report: Report, path: str | Path) -> None:
    """Write ``report`` as JSON (UTF-8, indented for diffs), one result at a time.

    The same document as ``report.model_dump_json(indent=2)``, without building it as one string: at
    100,000 results that string alone is hundreds of megabytes.
    """
    shell = report.model_copy(update={"results": []}).model_dump_json(indent=2)
    # ``results`` is the report's last field, so the shell ends with it
    head, marker, tail = shell.rpartition('"results": []')
    if not marker:  # pragma: no cover - the field order is the model's
        raise AssertionError("the report shell has no results field")
    with Path(path).open("w", encoding="utf-8") as out:
        out.write(head + '"results": [')
        for i, result in enumerate(report.results):
            out.write(("," if i else "") + "\n    " + result.model_dump_json(indent=2).replace("\n", "\n    "))
        out.write(("\n  ]" if report.results else "]") + tail)


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
