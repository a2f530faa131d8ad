"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` or a merge-request comment."""

from __future__ import annotations

import re
from pathlib import Path

from evals.compare import status_label
from evals.fairness.render import markdown_lines
from evals.reports.matrix import combination_rows, differing_first, side_by_side
from evals.results import CaseResult, Report

MAX_ROWS = 50


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str, limit: int = 160) -> str:
    """``text`` as inline code that survives backticks in it (a fence longer than any run inside)."""
    text = _cell(text, limit)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _reasons(runs: list[CaseResult]) -> str:
    for run in runs:
        if run.error:
            return f"error: {run.error}"
        for result in run.assertions:
            if result.outcome != "passed":
                return f"{result.type}: {result.reason}"
    return ""


def render_markdown(report: Report) -> str:
    """The report as Markdown: verdict, baseline comparison first, then totals and failing cases."""
    s = report.summary
    lines = [f"## Steward eval {_code(report.suite)}: **{status_label(report)}**", ""]
    if s.offline:
        lines += ["> **Offline provider**: answers are scripted or deterministic stand-ins, not a model's.", ""]
    if s.judge_offline:
        lines += ["> **Offline judge**: llm-rubric verdicts are a word-overlap heuristic, not a model's.", ""]
    if s.error:
        lines += [f"> **Error**: {_cell(s.error, 400)}", ""]
    comparison = report.comparison
    if comparison is not None:
        lines += [f"### Compared with {_code(comparison.baseline)}", ""]
        for title, ids in (
            ("Regressions", comparison.regressions),
            ("Fixes", comparison.fixes),
            ("New", comparison.new),
            ("Removed", comparison.removed),
        ):
            shown = ", ".join(_code(i, 80) for i in ids[:MAX_ROWS])
            more = f" and {len(ids) - MAX_ROWS} more" if len(ids) > MAX_ROWS else ""
            lines.append(f"- **{title}** ({len(ids)}): {shown or '-'}{more}")
        lines.append("")
    c, t = s.counts, s.totals
    offline_mark = " (offline)" if s.offline and s.provider != "offline" else ""
    lines += [
        "| pass rate | threshold | passed | failed | errors | not run | cached | provider | cost (USD) | duration |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        f"| {s.pass_rate:.1%} | {s.threshold:.1%} | {c.passed} | {c.failed} | {c.errors} | {c.not_run} | {c.cached} "
        f"| {_cell(s.provider)}{offline_mark} | {t.cost_usd:.4f} | {t.duration_s:.1f} s |",
        "",
    ]
    if s.required_failures:
        lines += ["**Required cases not passing**: " + ", ".join(_code(i, 80) for i in s.required_failures), ""]
    if report.fairness is not None:
        # before the failing cases: a fairness verdict is about the groups, not any one case
        lines += markdown_lines(report.fairness, lambda text: _cell(text, 600))
    lines += _matrix_lines(report)
    bad = [case for case in report.cases if case.outcome != "passed"]
    # only the results of the cases shown: a big run's results are read back from disk, not held
    listed = {case.case_id for case in bad[:MAX_ROWS]}
    by_case: dict[str, list[CaseResult]] = {}
    for result in report.results if listed else ():
        if result.case_id in listed:
            by_case.setdefault(result.case_id, []).append(result)
    if bad:
        lines += ["| case | outcome | passed | why |", "|---|---|---:|---|"]
        for case in bad[:MAX_ROWS]:
            why = _cell(_reasons(by_case.get(case.case_id, [])))
            lines.append(f"| {_code(case.case_id, 80)} | {case.outcome} | {case.passed}/{case.runs} | {why} |")
        if len(bad) > MAX_ROWS:
            lines.append(f"\n…and {len(bad) - MAX_ROWS} more; see the JSON or HTML report.")
        lines.append("")
    if report.not_run:
        lines += [f"**Not run**: {len(report.not_run)} execution(s).", ""]
    return "\n".join(lines)


def _matrix_lines(report: Report) -> list[str]:
    """A matrix's pass rate per combination, then its cases side by side (disagreeing cases first)."""
    combos = combination_rows(report.summary.combinations)
    if not combos:
        return []
    lines = [
        "### Pass rate per combination",
        "",
        "| prompt × provider | status | pass rate | passed | failed | errors | not run |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {_code(label, 120)}{' (offline)' if c.offline else ''} | {c.status.upper()} | {c.pass_rate:.1%} "
        f"| {c.passed} | {c.failed} | {c.errors} | {c.not_run} |"
        for label, c in combos
    ]
    rows = differing_first(side_by_side(report))
    lines += [
        "",
        "### Cases side by side",
        "",
        "| case | " + " | ".join(_code(label, 60) for label, _ in combos) + " |",
    ]
    lines.append("|---|" + "---|" * len(combos))
    for case_id, cells in rows[:MAX_ROWS]:
        lines.append(f"| {_code(case_id, 80)} | " + " | ".join(cell.text for cell in cells) + " |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n…and {len(rows) - MAX_ROWS} more; see the JSON or HTML report.")
    return [*lines, ""]


def write_markdown(report: Report, path: str | Path) -> None:
    """Write the Markdown summary of ``report`` to ``path``."""
    Path(path).write_text(render_markdown(report), encoding="utf-8")
