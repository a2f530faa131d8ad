"""The fairness section in each report format: Markdown lines, HTML, and JUnit testcases (one per dimension)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from html import escape

from evals.fairness.report import DimensionFairness, FairnessReport, PairedTest

MAX_TESTS = 40


def _rates(rates: dict[str, float] | None) -> str:
    return ", ".join(f"{g} {r:.0%}" for g, r in rates.items()) if rates else "-"


def _ratios(ratios: dict[str, float] | None) -> str:
    return ", ".join(f"{g} {r:.2f}" for g, r in ratios.items()) if ratios else "- (nobody selected)"


def _effect(test: PairedTest) -> str:
    return "undefined" if test.effect is None else f"{test.effect:+.2f}"


def _bold(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def headline(f: FairnessReport) -> str:
    """One line: the verdict, the correction and why."""
    return f"{f.status} ({f.correction}-corrected, alpha {f.alpha:g}, {f.tests} tests): {f.reason}"


def _test_rows(d: DimensionFairness) -> list[PairedTest]:
    # the significant tests first: they are what a reader looks for
    return sorted(d.tests, key=lambda t: (not t.significant, t.p_adjusted))[:MAX_TESTS]


def markdown_lines(f: FairnessReport, cell: Callable[[str], str]) -> list[str]:
    """The Markdown fairness section; ``cell`` escapes text for a table cell."""
    lines = [f"### Fairness: **{f.status}**", ""]
    if f.offline:
        lines += [f"> **Cannot show bias**: {cell(f.reason)}", ""]
    else:
        lines += [f"{cell(f.reason)} ({f.correction}-corrected, alpha {f.alpha:g}, {f.tests} tests).", ""]
    lines += ["| dimension | groups | status | matched sets | missing | findings |", "|---|---|---|---:|---:|---|"]
    for d in f.dimensions:
        why = "; ".join(d.findings + d.errors) or "-"
        lines.append(f"| {d.dimension} | {', '.join(d.groups)} | {d.status} | {d.pairs} | {d.missing} | {cell(why)} |")
    lines.append("")
    for d in f.dimensions:
        lines += [f"#### {d.dimension}", ""]
        lines += ["| assertion | pass rate by group | gap |", "|---|---|---:|"]
        lines += [f"| {cell(p.assertion)} | {_rates(p.rates)} | {p.gap:.0%} |" for p in d.pass_rates]
        lines.append("")
        if d.text is not None:
            sims = "; ".join(f"{s.groups[0]}/{s.groups[1]} {s.mean:.2f} (min {s.min:.2f})" for s in d.text.similarity)
            lines += [
                f"Text drift ({cell(d.text.method)}): similarity {sims or '-'}; mean words "
                f"{', '.join(f'{g} {w:.0f}' for g, w in d.text.mean_words.items())} (gap {d.text.length_gap:.0%}); "
                f"refusals {_rates(d.text.refusal_rates)} (gap {d.text.refusal_gap:.0%}).",
                "",
            ]
        if d.outputs:
            lines += ["| output | selected when | selection rate | impact ratio | unparsed |", "|---|---|---|---|---:|"]
            lines += [
                f"| {o.name} | {cell(o.selection)} | {_rates(o.selection_rates)} | {_ratios(o.impact_ratios)} "
                f"| {o.unparsed} |"
                for o in d.outputs
            ]
            lines.append("")
        if d.tests:
            lines += ["| metric | groups | test | n | effect | p | Holm p |", "|---|---|---|---:|---:|---:|---:|"]
            lines += [
                f"| {cell(t.metric)} | {' vs '.join(t.groups)} | {t.test} | {t.n} | {_effect(t)} ({t.effect_name}) "
                f"| {t.p_value:.3g} | {_bold(f'{t.p_adjusted:.3g}', t.significant)} |"
                for t in _test_rows(d)
            ]
            lines.append("")
        if d.sources:
            lines += ["Cue sources: " + " · ".join(cell(s) for s in d.sources), ""]
    return lines


def html_section(f: FairnessReport) -> str:
    """The HTML fairness section (all text escaped)."""
    out = [f"<h2>Fairness: <span class='{escape(f.status)}'>{escape(f.status)}</span></h2>"]
    if f.offline:
        out.append(f"<div class='banner'><b>Cannot show bias</b>: {escape(f.reason)}</div>")
    else:
        out.append(f"<p>{escape(f.reason)} ({escape(f.correction)}-corrected, alpha {f.alpha:g}, {f.tests} tests)</p>")
    for d in f.dimensions:
        out.append(
            f"<h3>{escape(d.dimension)}: <span class='{escape(d.status)}'>{escape(d.status)}</span></h3>"
            f"<p>{escape(d.description)} Groups: {escape(', '.join(d.groups))}; {d.pairs} matched sets, "
            f"{d.missing} missing.</p>"
        )
        if d.findings or d.errors:
            out.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in d.findings + d.errors) + "</ul>")
        rows = "".join(
            f"<tr><td>{escape(p.assertion)}</td><td>{escape(_rates(p.rates))}</td><td>{p.gap:.0%}</td></tr>"
            for p in d.pass_rates
        )
        out.append(f"<table><tr><th>assertion</th><th>pass rate by group</th><th>gap</th></tr>{rows}</table>")
        if d.text is not None:
            sims = "; ".join(f"{s.groups[0]}/{s.groups[1]} {s.mean:.2f} (min {s.min:.2f})" for s in d.text.similarity)
            out.append(
                f"<p>Text drift ({escape(d.text.method)}): similarity {escape(sims or '-')}; length gap "
                f"{d.text.length_gap:.0%}; refusals {escape(_rates(d.text.refusal_rates))}.</p>"
            )
        if d.outputs:
            rows = "".join(
                f"<tr><td>{escape(o.name)}</td><td>{escape(o.selection)}</td><td>{escape(_rates(o.selection_rates))}"
                f"</td><td>{escape(_ratios(o.impact_ratios))}</td><td>{o.unparsed}</td></tr>"
                for o in d.outputs
            )
            out.append(
                "<table><tr><th>output</th><th>selected when</th><th>selection rate</th><th>impact ratio</th>"
                f"<th>unparsed</th></tr>{rows}</table>"
            )
        if d.tests:
            rows = "".join(
                f"<tr><td>{escape(t.metric)}</td><td>{escape(' vs '.join(t.groups))}</td><td>{escape(t.test)}</td>"
                f"<td>{t.n}</td><td>{escape(_effect(t))} ({escape(t.effect_name)})</td><td>{t.p_value:.3g}</td>"
                f"<td class='{'failed' if t.significant else ''}'>{t.p_adjusted:.3g}</td></tr>"
                for t in _test_rows(d)
            )
            out.append(
                "<details><summary>Paired tests</summary><table><tr><th>metric</th><th>groups</th><th>test</th>"
                f"<th>n</th><th>effect</th><th>p</th><th>Holm p</th></tr>{rows}</table></details>"
            )
        if d.sources:
            out.append("<p><small>Cue sources: " + " · ".join(escape(s) for s in d.sources) + "</small></p>")
    return "\n".join(out)


def junit_cases(suite_el: ET.Element, classname: str, f: FairnessReport, clean: Callable[[str], str]) -> list[str]:
    """A testcase per dimension, ``fairness: <dimension>``; returns each one's outcome tag ('' when it passed).

    A failed dimension is a failure, an error an error, and offline answers are *skipped* (never a pass).
    """
    tags: list[str] = []
    for d in f.dimensions:
        case_el = ET.SubElement(suite_el, "testcase", classname=classname, name=f"fairness: {d.dimension}", time="0")
        detail = "\n".join([*d.findings, *d.errors])
        if d.status == "failed":
            el = ET.SubElement(case_el, "failure", type="fairness", message=clean((d.findings or ["failed"])[0][:500]))
            el.text = clean(detail)
            tags.append("failure")
        elif d.status == "error":
            el = ET.SubElement(case_el, "error", type="fairness", message=clean((d.errors or [f.reason])[0][:500]))
            el.text = clean(detail)
            tags.append("error")
        elif d.status == "cannot-show-bias":
            ET.SubElement(case_el, "skipped", message=clean(f.reason))
            tags.append("skipped")
        else:
            tags.append("")
        ET.SubElement(case_el, "system-out").text = clean(
            "\n".join(f"{p.assertion}: {_rates(p.rates)} (gap {p.gap:.0%})" for p in d.pass_rates)
        )
    return tags
