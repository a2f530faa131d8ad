"""Assemble a release's technical file from what Steward holds: the same readers the release page uses.

Nothing here is written down by hand: each section is read from the release, its product, its runs, its
sign-offs and decisions, the audit trail, the compliance package and production feedback, at one moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from governance.audit.models import AuditEvent
from governance.catalog import repository as catalog_repo
from governance.compliance.obligations import is_fairness_suite
from governance.compliance.reading import classification_view, release_obligations_view
from governance.feedback import repository as feedback_repo
from governance.feedback.kpis import KpiSet, kpi_set
from governance.incidents.models import Incident
from governance.kernel.db import utcnow
from governance.releases.manifests import SECTIONS as MANIFEST_SECTIONS
from governance.releases.manifests import manifest_changes
from governance.releases.models import Release, ReleaseState
from governance.review.facts import ReleaseRecord, gather
from governance.review.views import baseline_of, change_notes, release_checklists
from governance.technical_file import repository
from governance.technical_file.schemas import (
    ChangeNote,
    ChangesSection,
    ClassificationSection,
    Component,
    ComponentsSection,
    FairnessResult,
    GeneralSection,
    IncidentEntry,
    Kpis,
    ObligationsSection,
    OversightSection,
    Person,
    ProductionSection,
    RiskSection,
    Signature,
    SignOffSection,
    TechnicalFile,
    TestRun,
    TestsSection,
)

_NO_FEEDBACK: feedback_repo.KpiRow = (0, None, 0, 0, 0, 0)
# The states in which a release has gone live at some point (and so has a go-live event to read).
_WENT_LIVE = frozenset({ReleaseState.live.value, ReleaseState.retired.value})


class _People:
    """Names to people: every user a file names, read in one query."""

    def __init__(self, session: Session, names: Iterable[str]) -> None:
        self._users = repository.users_by_name(session, set(names))

    def __call__(self, name: str) -> Person:
        user = self._users.get(name)
        return Person(name=name, display_name=user.display_name if user else "")


def assemble(session: Session, release: Release, *, now: datetime | None = None) -> TechnicalFile:
    """The technical file of ``release`` as Steward holds it now.

    Args:
        session: The unit of work to read in.
        release: Any release; one in the go-live transaction reads as live, with its go-live event.
        now: The moment the file is assembled at (default: now).

    Returns:
        The file, every section filled.
    """
    now = now or utcnow()
    record = gather(session, release)
    product = record.product
    subject = f"{product.slug}#{release.number}"
    went_live = repository.latest_event(session, "release.live", subject) if release.state in _WENT_LIVE else None
    notes = change_notes(session, record)
    obligations = release_obligations_view(session, release.id)
    oversight = next((o for o in obligations.obligations if o.obligation == "human_oversight"), None)
    overseers = list((oversight.evidence or {}).get("overseers", [])) if oversight and oversight.evidence else []
    names = {product.owner.name, *overseers, *(s.actor for s in record.signoffs)}
    names |= {d.reviewer for d in record.decisions} | {n.author for n in notes}
    if went_live is not None:
        names.add(went_live.actor)
    person = _People(session, names)
    baseline = baseline_of(session, record)
    return TechnicalFile(
        product=product.slug,
        release=release.number,
        assembled_at=now,
        general=GeneralSection(
            product=product.slug,
            name=product.name,
            description=product.description,
            intended_purpose=product.intended_purpose,
            owner=person(product.owner.name),
            risk_tier=str(product.risk_tier),
            release=release.number,
            release_id=release.id,
            state=str(release.state),
            manifest_hash=release.manifest_hash,
            cut_at=release.created_at,
            cut_by=release.created_by,
            cause=release.cause,
        ),
        classification=_classification(session, product.slug),
        components=_components(release),
        changes=ChangesSection(
            compared_with=baseline.number if baseline else None,
            changes=manifest_changes(baseline.manifest if baseline else None, release.manifest),
            notes=[
                ChangeNote(
                    kind=n.kind,
                    name=n.name,
                    version=n.number,
                    author=person(n.author),
                    message=n.message,
                    created_at=n.created_at,
                )
                for n in notes
            ],
        ),
        tests=_tests(session, record),
        signoffs=_signoffs(record, person, went_live),
        oversight=OversightSection(
            overseers=[person(name) for name in overseers],
            competence=(oversight.evidence or {}).get("competence") if oversight else None,
            recorded_by=oversight.recorded_by if oversight else None,
            recorded_at=oversight.recorded_at if oversight else None,
            measures=_measures(record, overseers),
        ),
        risk=_risk(session, record),
        production=_production(session, record, baseline, now),
        obligations=ObligationsSection(
            obligations=obligations.obligations,
            blocking=obligations.blocking,
            document_lint=obligations.document_lint,
            documents=obligations.documents,
        ),
    )


def _classification(session: Session, slug: str) -> ClassificationSection:
    view = classification_view(session, slug)
    return ClassificationSection(
        classification=view.classification,
        rule=view.rule,
        minimum_tier=str(view.minimum_tier),
        risk_tier=str(view.risk_tier),
        tier_justification=view.tier_justification,
        aedt=view.aedt,
        rationale=view.rationale,
        obligations=view.obligations,
        assessment=view.assessment,
        version=view.version,
        declared_use=view.declared_use,
        classified_at=view.classified_at,
    )


def _components(release: Release) -> ComponentsSection:
    manifest = release.manifest
    kinds = {"prompts": "prompt", "suites": "suite", "documents": "document", "processes": "process"}
    components = [
        Component(kind=kinds[section], name=name, version=int(entry["version"]), sha256=str(entry["sha256"]))  # type: ignore[arg-type]
        for section in MANIFEST_SECTIONS
        for name, entry in sorted(manifest.get(section, {}).items())
    ]
    links = manifest.get("links", {})
    return ComponentsSection(
        model=dict(manifest.get("model", {})),
        components=components,
        links={section: list(links.get(section, [])) for section in ("documents", "processes")},
    )


def _tests(session: Session, record: ReleaseRecord) -> TestsSection:
    checklist = release_checklists(session, [record])[record.release.id]
    policy = record.policy
    checks = {check.suite: check for check in checklist.suites}
    runs = [
        TestRun(
            suite=run.suite_name,
            suite_version=run.suite_version,
            required=checks[run.suite_name].required if run.suite_name in checks else False,
            state=str(run.state),
            provider=run.provider,
            offline=run.offline,
            attempt=run.attempt,
            planned=run.planned,
            pass_rate=(run.summary or {}).get("pass_rate"),
            threshold=(run.summary or {}).get("threshold"),
            required_failures=list((run.summary or {}).get("required_failures") or []),
            started_at=run.started_at,
            finished_at=run.finished_at,
        )
        for run in sorted(record.runs, key=lambda r: r.suite_name)
    ]
    offline = (
        "refused: evidence from the offline provider alone does not count for approval"
        if policy.refuse_offline_evidence
        else f"accepted: {policy.offline_evidence_reason or 'no reason recorded'}"
    )
    return TestsSection(
        verdict=checklist.verdict,
        min_pass_rate=policy.min_pass_rate,
        required_suites=list(policy.required_suites),
        evidence_max_age_days=policy.evidence_max_age_days,
        offline_evidence=offline,
        runs=runs,
    )


_ACTS = {"approved": "approval", "rejected": "rejection", "sent_back": "changes requested"}


def _signoffs(
    record: ReleaseRecord,
    person: _People,
    went_live: AuditEvent | None,
) -> SignOffSection:
    signatures = [
        Signature(
            person=person(s.actor),
            act="sign-off",
            note=s.note,
            waiver=s.waiver,
            cycle=s.cycle,
            current=record.is_current(s),
            at=s.created_at,
        )
        for s in record.signoffs
    ]
    signatures += [
        Signature(
            person=person(d.reviewer),
            act=_ACTS.get(d.decision, d.decision),  # type: ignore[arg-type]
            note=d.note,
            cycle=d.cycle,
            current=record.is_current(d),
            at=d.created_at,
        )
        for d in record.decisions
    ]
    signatures.sort(key=lambda s: s.at)
    if went_live is not None:
        signatures.append(
            Signature(person=person(went_live.actor), act="go-live", note="", current=True, at=went_live.occurred_at)
        )
    return SignOffSection(required_approvals=record.policy.required_approvals, signatures=signatures)


def _measures(record: ReleaseRecord, overseers: list[str]) -> list[str]:
    """The oversight measures Steward itself enforces for this product, from its policy and its evidence."""
    policy, product = record.policy, record.product
    measures = [
        f"Four eyes: the owner ({product.owner.name}) signs off and {policy.required_approvals} independent "
        "reviewer(s) approve before a release goes live; authors, signers and past owners may not approve.",
        "Stop button: the owner, a named overseer, any reviewer or an admin may suspend the product at once; a "
        "second person (or a new release that passed every gate) resumes it.",
        f"Revalidation: a change to any component cuts a new release, due within {policy.revalidation_days} days.",
    ]
    if overseers:
        measures.append(f"Named overseers (Art. 14, 26(2)): {', '.join(overseers)}.")
    if policy.kpi_thresholds:
        action = "suspends the product" if policy.suspend_on_threshold else "opens an alert"
        measures.append(f"Production KPI limits: crossing one {action}.")
    if policy.recertify_days:
        measures.append(f"Re-certification: the live release's suites are re-run every {policy.recertify_days} days.")
    return measures


def _risk(session: Session, record: ReleaseRecord) -> RiskSection:
    policy = record.policy
    specs = _suite_specs(session, record)
    fairness = [
        FairnessResult(
            suite=run.suite_name,
            state=str(run.state),
            pass_rate=(run.summary or {}).get("pass_rate"),
            threshold=(run.summary or {}).get("threshold"),
            summary=run.summary,
        )
        for run in sorted(record.runs, key=lambda r: r.suite_name)
        if is_fairness_suite(run.suite_name, specs.get(run.suite_name, {}))
    ]
    failures = [
        f"{run.suite_name}: {case}"
        for run in sorted(record.runs, key=lambda r: r.suite_name)
        for case in (run.summary or {}).get("required_failures") or []
    ]
    return RiskSection(
        risk_tier=policy.risk_tier,
        kpi_thresholds=list(policy.kpi_thresholds),
        suspend_on_threshold=policy.suspend_on_threshold,
        recertify_days=policy.recertify_days,
        revalidation_days=policy.revalidation_days,
        fairness=fairness,
        required_failures=failures,
    )


def _suite_specs(session: Session, record: ReleaseRecord) -> dict[str, dict[str, Any]]:
    """The specs of the release's suites at their manifest versions (a fairness suite is known by its spec)."""
    wanted = {name: int(entry["version"]) for name, entry in record.release.manifest.get("suites", {}).items()}
    found = catalog_repo.suite_contents(session, [record.product.id], sorted(set(wanted.values())))
    return {name: content["spec"] for _, name, number, content in found if wanted.get(name) == number}


def kpis_of(kpis: KpiSet) -> Kpis:
    return Kpis(
        volume=kpis.volume, satisfaction=kpis.satisfaction, override_rate=kpis.override_rate, comments=kpis.comments
    )


def release_kpis(session: Session, release_ids: list[int]) -> dict[int, Kpis]:
    rows = feedback_repo.kpi_rows_by_release(session, release_ids)
    return {release_id: kpis_of(kpi_set(rows.get(release_id, _NO_FEEDBACK))) for release_id in release_ids}


def incident_entries(incidents: list[Incident]) -> list[IncidentEntry]:
    return [
        IncidentEntry(
            release=i.release_number,
            kind=str(i.kind),
            what_happened=i.what_happened,
            aware_at=i.aware_at,
            deadline_at=i.deadline_at,
            reported_at=i.reported_at,
            authority_reference=i.authority_reference,
        )
        for i in incidents
    ]


def _production(session: Session, record: ReleaseRecord, baseline: Release | None, now: datetime) -> ProductionSection:
    ids = [record.release.id] + ([baseline.id] if baseline else [])
    kpis = release_kpis(session, ids)
    return ProductionSection(
        as_of=now,
        release_kpis=kpis[record.release.id],
        previous=baseline.number if baseline else None,
        previous_kpis=kpis[baseline.id] if baseline else None,
        incidents=incident_entries(repository.incidents_of_releases(session, ids)),
    )
