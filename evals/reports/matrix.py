"""The side-by-side view of a prompt x provider matrix, shared by the Markdown, HTML and terminal reports."""

from __future__ import annotations

from dataclasses import dataclass

from evals.results import CombinationSummary, Outcome, Report


def combination_label(prompt: str | None, provider: str | None) -> str:
    """How reports name a combination: ``prompt × provider``."""
    return f"{prompt} × {provider}"


@dataclass(frozen=True, slots=True)
class Cell:
    """One case on one combination, across its repeats."""

    outcome: Outcome | None
    """passed if every repeat passed, error if any errored, else failed; None when nothing finished."""
    passed: int
    runs: int

    @property
    def text(self) -> str:
        if self.outcome is None:
            return "not run"
        return self.outcome if self.runs == 1 else f"{self.outcome} {self.passed}/{self.runs}"


def side_by_side(report: Report) -> list[tuple[str, list[Cell]]]:
    """Per case (in report order), a cell per combination (in ``summary.combinations`` order).

    Empty for a run that is not a matrix.
    """
    combos = report.summary.combinations
    if not combos:
        return []
    column: dict[tuple[str | None, str | None], int] = {(c.prompt, c.provider): i for i, c in enumerate(combos)}
    tallies: dict[str, list[list[int]]] = {}  # case -> per column [runs, passed, errors]
    for result in report.results:
        row = tallies.setdefault(result.case_id, [[0, 0, 0] for _ in combos])
        index = column.get((result.prompt, result.provider))
        if index is None:
            continue
        tally = row[index]
        tally[0] += 1
        tally[1] += result.outcome == "passed"
        tally[2] += result.outcome == "error"
    rows = []
    for case in report.cases:
        row = tallies.get(case.case_id, [[0, 0, 0] for _ in combos])
        rows.append((case.case_id, [_cell(*tally) for tally in row]))
    return rows


def _cell(runs: int, passed: int, errors: int) -> Cell:
    if not runs:
        return Cell(None, 0, 0)
    outcome: Outcome = "error" if errors else ("passed" if passed == runs else "failed")
    return Cell(outcome, passed, runs)


def differing_first(rows: list[tuple[str, list[Cell]]]) -> list[tuple[str, list[Cell]]]:
    """Rows whose combinations disagree first, then rows with any non-pass: what a reviewer looks for."""

    def rank(row: tuple[str, list[Cell]]) -> int:
        outcomes = {cell.outcome for cell in row[1]}
        return 0 if len(outcomes) > 1 else (1 if outcomes != {"passed"} else 2)

    return sorted(rows, key=rank)


def combination_rows(combos: list[CombinationSummary]) -> list[tuple[str, CombinationSummary]]:
    """Each combination with its label."""
    return [(combination_label(c.prompt, c.provider), c) for c in combos]
