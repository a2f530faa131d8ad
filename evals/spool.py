"""Finished results on disk instead of in memory, for runs too big to hold (the CLI's ``steward eval run``).

At 100,000 executions the ``CaseResult`` objects alone are several hundred megabytes; spooled, a run
holds 8 bytes per execution (where its line starts) and reads results back one at a time, in plan
order, for the reports. Each line is the result exactly as the JSON report writes it (indented), so
the JSON writer copies lines without parsing them.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import IO, overload

from evals.results import CaseResult, CaseSummary
from evals.scoring import ResultTally
from evals.suite import CaseFacts

JSON_INDENT = "    "
"""How deep a result sits in the JSON report: its lines are indented by this."""


def report_json(item: CaseResult | CaseSummary) -> str:
    """A result or case summary as the JSON report writes it: indented two spaces a level, at its depth there."""
    return item.model_dump_json(indent=2).replace("\n", "\n" + JSON_INDENT)


class ResultSpool:
    """Results written to a temporary file as they finish; iterating reads them back in plan order.

    ``planned`` is how many executions the plan has; :meth:`add` takes each result with its index in
    the plan (results finish out of order). Iteration yields only the finished ones, a fresh
    ``CaseResult`` each time, so nothing but the current result is held.
    """

    def __init__(self, planned: int) -> None:
        # held open for the life of the report that reads it; the file has no name and goes when closed
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="steward-results-")  # noqa: SIM115
        self._offsets = array("q", [-1]) * planned
        self._count = 0
        # where the next line goes and where the file's position is, tracked here because a seek() on a
        # buffered file flushes or drops its buffer: a system call per result when adding or reading
        self._end = 0
        self._position = 0

    def add(self, index: int, result: CaseResult) -> None:
        if self._position != self._end:
            self._file.seek(self._end)
        self._offsets[index] = self._end
        # a JSON string never holds a raw newline, so one result is one line
        line = report_json(result).replace("\n", "\r").encode("utf-8") + b"\n"
        self._file.write(line)
        self._end += len(line)
        self._position = self._end
        self._count += 1

    def finished(self, index: int) -> bool:
        return self._offsets[index] >= 0

    def json_lines(self) -> Iterator[str]:
        """Each finished result in plan order, as the JSON report writes it."""
        for offset in self._offsets:
            if offset >= 0:
                if offset != self._position:  # results finish roughly in plan order: most lines follow the last
                    self._file.seek(offset)
                line = self._file.readline()
                self._position = offset + len(line)
                yield line[:-1].decode("utf-8").replace("\r", "\n")

    def __iter__(self) -> Iterator[CaseResult]:
        for text in self.json_lines():
            yield CaseResult.model_validate_json(text)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def close(self) -> None:
        self._file.close()


class CaseSummaries(Sequence[CaseSummary]):
    """A report's per-case summaries made on demand from a :class:`ResultTally`, not held as objects.

    Holds the positions (in ``cases``) of the cases that ran, not the cases: ``cases`` may be the
    facts of a spooled suite, made when asked for.
    """

    def __init__(self, cases: Sequence[CaseFacts], tally: ResultTally) -> None:
        self._cases = cases
        self._ran = array("q", (n for n, case in enumerate(cases) if tally.ran(case)))
        self._tally = tally

    @overload
    def __getitem__(self, index: int) -> CaseSummary: ...

    @overload
    def __getitem__(self, index: slice) -> list[CaseSummary]: ...

    def __getitem__(self, index: int | slice) -> CaseSummary | list[CaseSummary]:
        if isinstance(index, slice):
            return [self._summary(self._cases[n]) for n in self._ran[index]]
        return self._summary(self._cases[self._ran[index]])

    def __iter__(self) -> Iterator[CaseSummary]:
        return (self._summary(self._cases[n]) for n in self._ran)

    def _summary(self, case: CaseFacts) -> CaseSummary:
        summary = self._tally.case_summary(case)
        assert summary is not None  # only cases with results are listed
        return summary

    def __len__(self) -> int:
        return len(self._ran)
