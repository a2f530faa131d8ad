"""A self-contained HTML report a reviewer opens from a CI artefact: no external assets, all text escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path

from evals.compare import status_label
from evals.fairness.render import html_section
from evals.reports.matrix import combination_label, combination_rows, differing_first, side_by_side
from evals.results import CaseResult, Comparison, Report, Summary

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d1d1f;max-width:1200px}
h1{font-size:1.4rem}.passed{color:#0a7d28}.failed{color:#b3261e}.error{color:#8a4b00}
.banner{background:#fff4ce;border:1px solid #e0c060;padding:.6rem 1rem;margin:.6rem 0;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.8rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f4f4f6}pre{white-space:pre-wrap;background:#f7f7f9;
padding:.5rem;margin:.3rem 0;max-height:24rem;overflow:auto}details{margin:.2rem 0}summary{cursor:pointer}
"""


def _runs_html(runs: list[CaseResult]) -> str:
    parts = []
    for run in runs:
        where = f"{escape(combination_label(run.prompt, run.provider))}, " if run.prompt is not None else ""
        head = f"{where}repeat {run.repeat_index}: <b class='{run.outcome}'>{run.outcome}</b>"
        meta = []
        if run.latency_ms is not None:
            meta.append(f"{run.latency_ms:.0f} ms")
        meta.append(f"{run.prompt_tokens}+{run.completion_tokens} tokens")
        if run.cost_usd is not None:
            meta.append(f"${run.cost_usd:.6f}")
        if run.cached:
            meta.append("cached")
        if run.offline:
            meta.append("OFFLINE answer")
        body = [f"<p>{head} · {escape(' · '.join(meta))}</p>"]
        if run.error:
            body.append(f"<p class='error'>{escape(run.error)}</p>")
        for message in run.messages:
            body.append(f"<div><b>{escape(message.role)}</b><pre>{escape(message.content)}</pre></div>")
        if run.output is not None:
            body.append(f"<div><b>output</b><pre>{escape(run.output)}</pre></div>")
        if run.assertions:
            rows = "".join(
                f"<tr><td>{escape(a.type)}</td><td class='{a.outcome}'>{a.outcome}</td><td>{a.score:.2f}</td>"
                f"<td>{a.weight:g}</td><td>{escape(str(a.args.get('value', ''))[:300])}</td>"
                f"<td>{escape(a.reason)}</td></tr>"
                for a in run.assertions
            )
            body.append(
                "<table><tr><th>assertion</th><th>outcome</th><th>score</th><th>weight</th>"
                f"<th>value</th><th>reason</th></tr>{rows}</table>"
            )
        parts.append("".join(body))
    return "<hr>".join(parts)


def render_html(report: Report) -> str:
    """The report as one HTML document with inline CSS and no scripts or external references."""
    s = report.summary
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Steward eval {escape(report.suite)}: {escape(status_label(report))}</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Steward eval <code>{escape(report.suite)}</code>: "
        f"<span class='{s.status}'>{escape(status_label(report))}</span></h1>",
        f"<p>{escape(report.suite_description)}</p>",
        *_banners(s),
    ]
    if report.comparison is not None:
        out.extend(_comparison_html(report.comparison))
    out.append(_totals_html(s))
    if s.required_failures:
        out.append(f"<p><b>Required cases not passing</b>: {escape(', '.join(s.required_failures))}</p>")
    if report.fairness is not None:
        out.append(html_section(report.fairness))
    out.extend(_matrix_html(report))
    out.append("<h2>Cases</h2>")
    out.extend(_cases_html(report))
    if report.not_run:
        names = ", ".join(f"{r.case_id}#{r.repeat_index}" for r in report.not_run)
        out.append(f"<h2>Not run</h2><p>{escape(names)}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def _banners(s: Summary) -> list[str]:
    banners = []
    if s.offline:
        banners.append(
            "<div class='banner'><b>Offline provider</b>: answers are scripted or deterministic "
            "stand-ins, not a model's.</div>"
        )
    if s.judge_offline:
        banners.append(
            "<div class='banner'><b>Offline judge</b>: llm-rubric verdicts are a word-overlap "
            "heuristic, not a model's.</div>"
        )
    if s.error:
        banners.append(f"<div class='banner'><b>Error</b>: {escape(s.error)}</div>")
    return banners


def _comparison_html(cmp_: Comparison) -> list[str]:
    out = [f"<h2>Compared with {escape(cmp_.baseline)}</h2><ul>"]
    for title, ids in (
        ("Regressions", cmp_.regressions),
        ("Fixes", cmp_.fixes),
        ("New", cmp_.new),
        ("Removed", cmp_.removed),
    ):
        out.append(f"<li><b>{title}</b> ({len(ids)}): {escape(', '.join(ids)) or '-'}</li>")
    out.append("</ul>")
    return out


def _totals_html(s: Summary) -> str:
    c, t = s.counts, s.totals
    return (
        "<table><tr><th>pass rate</th><th>threshold</th><th>passed</th><th>failed</th><th>errors</th>"
        "<th>not run</th><th>cached</th><th>provider</th><th>tokens</th><th>cost (USD)</th><th>duration</th></tr>"
        f"<tr><td>{s.pass_rate:.1%}</td><td>{s.threshold:.1%}</td><td>{c.passed}</td><td>{c.failed}</td>"
        f"<td>{c.errors}</td><td>{c.not_run}</td><td>{c.cached}</td>"
        f"<td>{escape(s.provider)}{' (offline)' if s.offline else ''}</td>"
        f"<td>{t.prompt_tokens + t.completion_tokens}</td><td>{t.cost_usd:.4f}</td>"
        f"<td>{t.duration_s:.1f} s</td></tr></table>"
    )


def _matrix_html(report: Report) -> list[str]:
    """A matrix's pass rate per combination and every case side by side, disagreeing cases first."""
    combos = combination_rows(report.summary.combinations)
    if not combos:
        return []
    out = [
        "<h2>Pass rate per combination</h2><table><tr><th>prompt × provider</th><th>status</th><th>pass rate</th>"
        "<th>passed</th><th>failed</th><th>errors</th><th>not run</th></tr>"
    ]
    out += [
        f"<tr><td>{escape(label)}{' (offline)' if c.offline else ''}</td><td class='{c.status}'>{c.status.upper()}</td>"
        f"<td>{c.pass_rate:.1%}</td><td>{c.passed}</td><td>{c.failed}</td><td>{c.errors}</td><td>{c.not_run}</td></tr>"
        for label, c in combos
    ]
    out.append("</table><h2>Cases side by side</h2><table><tr><th>case</th>")
    out += [f"<th>{escape(label)}</th>" for label, _ in combos]
    out.append("</tr>")
    for case_id, cells in differing_first(side_by_side(report)):
        tds = "".join(f"<td class='{cell.outcome or 'error'}'>{escape(cell.text)}</td>" for cell in cells)
        out.append(f"<tr><td><code>{escape(case_id)}</code></td>{tds}</tr>")
    out.append("</table>")
    return out


def _cases_html(report: Report) -> list[str]:
    """One collapsible section per case, failing cases first: they are what a reviewer opens the report for."""
    by_case: dict[str, list[CaseResult]] = {}
    for result in report.results:
        by_case.setdefault(result.case_id, []).append(result)
    ordered = sorted(report.cases, key=lambda case: case.outcome == "passed")
    return [
        f"<details{' open' if case.outcome != 'passed' and len(ordered) <= 50 else ''}><summary>"
        f"<code>{escape(case.case_id)}</code> <b class='{case.outcome}'>{case.outcome}</b> "
        f"({case.passed}/{case.runs} passed){' · required' if case.required else ''}</summary>"
        f"{_runs_html(by_case.get(case.case_id, []))}</details>"
        for case in ordered
    ]


def write_html(report: Report, path: str | Path) -> None:
    """Write the HTML report to ``path``."""
    Path(path).write_text(render_html(report), encoding="utf-8")
