"""The technical file as Markdown, section by section: for reading, for printing, and for diffing two files.

Each section renders on its own (``section_markdown``) so that two files compare section by section; the
whole document adds the header (frozen or draft, the hash, the retention) and the "since go-live" appendix.
The HTML rendering is a template of the web app (``service/web/templates/_technical_file.html``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from governance.technical_file.schemas import (
    SECTIONS,
    IncidentEntry,
    Kpis,
    Person,
    TechnicalFile,
    TechnicalFileDocument,
)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def who(person: Person) -> str:
    return f"{person.display_name} ({person.name})" if person.display_name else person.name


def cell(value: Any) -> str:
    """A value in a Markdown table cell: one line, pipes escaped."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ") or "—"


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    heads = list(headers)
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines if len(lines) > 2 else ["(none)"]


def quote(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in (text or "—").splitlines()] or ["> —"]


def draft_note(file: TechnicalFile) -> str:
    """Why a file is not frozen: its release has not gone live, or went live before files were frozen."""
    if file.general.state in ("live", "retired"):
        return "this release went live before Steward froze technical files, so it is assembled on each request."
    return "it is frozen when the release goes live."


def _general(file: TechnicalFile) -> list[str]:
    g = file.general
    return [
        f"- Product: **{g.name}** (`{g.product}`), owner {who(g.owner)}",
        f"- Release: {g.release} (id {g.release_id}), state `{g.state}`, risk tier `{g.risk_tier}`",
        f"- Cut: {when(g.cut_at)} by {g.cut_by}; cause: {cell(g.cause)}",
        f"- Manifest sha256: `{g.manifest_hash}`",
        "",
        "Description:",
        "",
        *quote(g.description),
        "",
        "Intended purpose:",
        "",
        *quote(g.intended_purpose),
    ]


def _classification(file: TechnicalFile) -> list[str]:
    c = file.classification
    tier = f"risk tier `{c.risk_tier}` (minimum `{c.minimum_tier}`)"
    lines = [
        f"- Classification: **{c.classification}** by rule `{c.rule}`; {tier}",
        f"- Classification version: {c.version if c.version is not None else '—'}, classified {when(c.classified_at)}",
        f"- Declared use: {cell(c.declared_use)}",
        f"- NYC automated employment decision tool: {'yes' if c.aedt else 'no'}",
        f"- Obligations: {', '.join(c.obligations) or 'none'}",
    ]
    if c.tier_justification:
        lines.append(f"- Tier below the minimum, justified: {c.tier_justification}")
    lines += ["", "Rationale:", "", *table(["Reference", "Finding"], [(r.reference, r.finding) for r in c.rationale])]
    if c.assessment:
        lines += ["", "Assessment (Art. 6(4)):", "", *quote(c.assessment)]
    return lines


def _components(file: TechnicalFile) -> list[str]:
    c = file.components
    return [
        f"- Model settings: {cell(c.model)}",
        f"- Linked documents: {', '.join(c.links.get('documents', [])) or 'none'}; "
        f"linked processes: {', '.join(c.links.get('processes', [])) or 'none'}",
        "",
        *table(["Kind", "Name", "Version", "sha256"], [(x.kind, x.name, x.version, x.sha256) for x in c.components]),
    ]


def _changes(file: TechnicalFile) -> list[str]:
    c = file.changes
    against = f"release {c.compared_with}" if c.compared_with is not None else "nothing (a first release)"
    rows = [
        (
            x.get("kind"),
            x.get("name"),
            x.get("change"),
            x.get("from_version", x.get("from")),
            x.get("to_version", x.get("to")),
        )
        for x in c.changes
    ]
    notes = [(n.kind, n.name, n.version, who(n.author), when(n.created_at), n.message) for n in c.notes]
    return [
        f"Compared with {against}.",
        "",
        *table(["Kind", "Name", "Change", "From", "To"], rows),
        "",
        "Why, in the authors' words:",
        "",
        *table(["Kind", "Name", "Version", "Author", "When", "Message"], notes),
    ]


def _tests(file: TechnicalFile) -> list[str]:
    t = file.tests
    rows = [
        (
            r.suite,
            r.suite_version,
            "yes" if r.required else "no",
            r.state,
            f"{r.provider}{' (offline)' if r.offline else ''}",
            pct(r.pass_rate),
            pct(r.threshold),
            ", ".join(r.required_failures) or "—",
            when(r.started_at),
            when(r.finished_at),
        )
        for r in t.runs
    ]
    return [
        f"- Verdict: **{t.verdict}**",
        f"- Procedure: every suite of the manifest runs against it; minimum pass rate {pct(t.min_pass_rate)}; "
        f"required suites: {', '.join(t.required_suites) or 'all'}; "
        f"evidence at most {t.evidence_max_age_days} days old",
        f"- Offline evidence: {t.offline_evidence}",
        "",
        *table(
            [
                "Suite",
                "Version",
                "Required",
                "State",
                "Provider",
                "Pass rate",
                "Threshold",
                "Required failures",
                "Started",
                "Finished",
            ],
            rows,
        ),
    ]


def _signoffs(file: TechnicalFile) -> list[str]:
    s = file.signoffs
    rows = [
        (
            when(x.at),
            x.act,
            who(x.person),
            x.cycle if x.cycle is not None else "—",
            "yes" if x.current else "no (earlier cycle or manifest)",
            x.note,
            x.waiver or "—",
        )
        for x in s.signatures
    ]
    return [
        f"Approvals required by the policy: {s.required_approvals}.",
        "",
        *table(["When", "Act", "Who", "Cycle", "Current", "Note", "Waiver"], rows),
    ]


def _oversight(file: TechnicalFile) -> list[str]:
    o = file.oversight
    lines = [f"- Overseers: {', '.join(who(p) for p in o.overseers) or 'none named'}"]
    if o.competence:
        lines.append(f"- Competence and authority: {o.competence}")
    if o.recorded_by:
        lines.append(f"- Recorded by {o.recorded_by} on {when(o.recorded_at)}")
    return [*lines, "", "Measures:", "", *(f"- {m}" for m in o.measures)]


def _risk(file: TechnicalFile) -> list[str]:
    r = file.risk
    fairness = [(f.suite, f.state, pct(f.pass_rate), pct(f.threshold), cell(f.summary or {})) for f in r.fairness]
    return [
        f"- Risk tier: `{r.risk_tier}`; revalidation within {r.revalidation_days} days; "
        f"re-certification {'every ' + str(r.recertify_days) + ' days' if r.recertify_days else 'not scheduled'}",
        f"- Production KPI limits: {cell(r.kpi_thresholds) if r.kpi_thresholds else 'none'}"
        f"{'; crossing one suspends the product' if r.suspend_on_threshold else ''}",
        f"- Required cases that did not pass: {', '.join(r.required_failures) or 'none'}",
        "",
        "Fairness suites:",
        "",
        *table(["Suite", "State", "Pass rate", "Threshold", "Summary"], fairness),
    ]


def kpi_lines(kpis: Kpis) -> str:
    return (
        f"volume {kpis.volume}, satisfaction {pct(kpis.satisfaction)}, "
        f"override rate {pct(kpis.override_rate)}, comments {kpis.comments}"
    )


def incident_table(incidents: list[IncidentEntry]) -> list[str]:
    rows = [
        (
            i.release,
            i.kind,
            when(i.aware_at),
            when(i.deadline_at),
            when(i.reported_at),
            i.authority_reference or "—",
            i.what_happened,
        )
        for i in incidents
    ]
    return table(["Release", "Kind", "Aware", "Deadline", "Reported", "Reference", "What happened"], rows)


def _production(file: TechnicalFile) -> list[str]:
    p = file.production
    lines = [f"As of {when(p.as_of)}.", "", f"- Release {file.release}: {kpi_lines(p.release_kpis)}"]
    if p.previous is not None and p.previous_kpis is not None:
        lines.append(f"- Release {p.previous} (replaced by this one): {kpi_lines(p.previous_kpis)}")
    return [*lines, "", "Serious incidents:", "", *incident_table(p.incidents)]


def _obligations(file: TechnicalFile) -> list[str]:
    o = file.obligations
    rows = [
        (
            x.obligation,
            x.reference,
            x.status,
            x.reason,
            cell(x.evidence or {}),
            x.recorded_by or "—",
            when(x.recorded_at),
            when(x.expires_at),
        )
        for x in o.obligations
    ]
    findings = [(d.document, d.version, len(d.findings)) for d in o.documents]
    return [
        *table(["Obligation", "Reference", "Status", "Reason", "Evidence", "Recorded by", "Recorded", "Expires"], rows),
        "",
        f"Blocking go-live: {'; '.join(o.blocking) if o.blocking else 'nothing'}",
        "",
        f"Document lint (findings {o.document_lint}):",
        "",
        *table(["Document", "Version", "Findings"], findings),
    ]


SECTION_RENDERERS: dict[str, Callable[[TechnicalFile], list[str]]] = {
    "general": _general,
    "classification": _classification,
    "components": _components,
    "changes": _changes,
    "tests": _tests,
    "signoffs": _signoffs,
    "oversight": _oversight,
    "risk": _risk,
    "production": _production,
    "obligations": _obligations,
}


def section_markdown(file: TechnicalFile, key: str) -> str:
    """One section of the file, heading included, as Markdown."""
    number, title, reference = next((i, t, r) for i, (k, t, r) in enumerate(SECTIONS, start=1) if k == key)
    return "\n".join([f"## {number}. {title} ({reference})", "", *SECTION_RENDERERS[key](file)]) + "\n"


def markdown(document: TechnicalFileDocument) -> str:
    """The whole technical file as Markdown: header, every section, and the appendix computed live."""
    file = document.file
    lines = [f"# Technical file: {file.general.name}, release {file.release}", ""]
    if document.frozen is not None:
        frozen = document.frozen
        lines += [
            f"**Frozen** on {when(frozen.frozen_at)} when the release went live (by {frozen.frozen_by}); it does not "
            f"change. sha256 of its canonical JSON: `{frozen.sha256}` (audit event {frozen.audit_seq}).",
        ]
    else:
        lines += [f"**Draft**, assembled {when(file.assembled_at)}: {draft_note(file)}"]
    keep = f", until {when(document.retention.keep_until)}" if document.retention.keep_until else " once frozen"
    lines += ["", f"Retention: {document.retention.years} years{keep}.", ""]
    body = "\n".join(lines) + "\n" + "\n".join(section_markdown(file, key) for key, _, _ in SECTIONS)
    since = document.since_go_live
    if since is None:
        return body
    appendix = [
        "",
        "## Appendix: since go-live (computed live, not part of the frozen file or its hash)",
        "",
        f"Computed {when(since.computed_at)}; went live {when(since.went_live_at)}.",
        "",
        f"- KPIs: {kpi_lines(since.kpis)}",
        "",
        *incident_table(since.incidents),
    ]
    return body + "\n".join(appendix) + "\n"
