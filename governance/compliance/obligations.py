"""Obligations as release gates: which apply, the evidence recorded for them, and what still blocks go-live.

Which obligations a product has follows from its classification (``classification.py``) and the rule file
``rules/obligations.yaml``. Evidence is recorded per product; the newest per obligation counts. A release reads
its obligations when it is to go live: everything must be met, its documents must pass the lint if the policy
blocks on findings, and a prohibited product never goes live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.users import get_user
from governance.audit.trail import begin_write, record_event
from governance.catalog import repository as catalog_repo
from governance.catalog.models import ComponentKind, Product
from governance.catalog.permissions import require_product_manager
from governance.catalog.products import get_product
from governance.catalog.schemas import DeclaredUse
from governance.compliance import repository
from governance.compliance.classification import ClassificationResult, classify
from governance.compliance.lint import Finding, summarise
from governance.compliance.models import ObligationEvidence
from governance.compliance.rulebook import Obligation, obligation_rules
from governance.compliance.schemas import (
    DATED_BY,
    EVIDENCE_FORMS,
    DocumentLint,
    ObligationStatus,
    ObligationsView,
)
from governance.kernel.db import utcnow
from governance.kernel.errors import FieldProblem, Invalid, NotFound, field_path
from governance.releases.cutting import cut_releases
from governance.releases.models import Policy, Release


def declared_use_of(product: Product) -> DeclaredUse | None:
    return DeclaredUse.model_validate(product.declared_use) if product.declared_use else None


def classification_of(product: Product) -> ClassificationResult:
    return classify(declared_use_of(product))


def is_fairness_suite(name: str, spec: Mapping[str, Any]) -> bool:
    """By name, by a ``fairness`` block, or every case tagged ``fairness`` (a few tagged cases in a quality suite
    do not make it a fairness suite)."""
    cases = spec.get("cases") or []
    tagged = bool(cases) and all(isinstance(case, dict) and "fairness" in (case.get("tags") or []) for case in cases)
    return "fairness" in name or "fairness" in spec or tagged


def _fairness_status(
    obligation: Obligation, name: str, suites: Mapping[str, Mapping[str, Any]], policy: Policy
) -> ObligationStatus:
    required = list(policy.required_suites) or list(suites)
    fair = sorted(s for s, spec in suites.items() if s in required and is_fairness_suite(s, spec))
    base: dict[str, Any] = {"obligation": name, "title": obligation.title, "reference": obligation.reference}
    if fair:
        return ObligationStatus(**base, status="met", reason=f"required fairness suite: {', '.join(fair)}")
    return ObligationStatus(
        **base,
        status="missing",
        reason="no required suite is a fairness suite (named 'fairness', a fairness block, every case tagged so)",
    )


def statuses(
    result: ClassificationResult,
    evidence: dict[str, ObligationEvidence],
    *,
    suites: Mapping[str, Mapping[str, Any]],
    policy: Policy,
    now: datetime,
) -> list[ObligationStatus]:
    """Each obligation of ``result`` with its status: met by evidence, missing, or expired."""
    rules = obligation_rules().obligations
    found: list[ObligationStatus] = []
    for name in result.obligations:
        obligation = rules[name]
        if obligation.evidence == "release":
            found.append(_fairness_status(obligation, name, suites, policy))
            continue
        row = evidence.get(name)
        base: dict[str, Any] = {"obligation": name, "title": obligation.title, "reference": obligation.reference}
        if row is None:
            found.append(
                ObligationStatus(**base, status="missing", reason=f"no evidence recorded ({obligation.evidence})")
            )
            continue
        recorded: dict[str, Any] = {
            "evidence": row.details,
            "recorded_by": row.recorded_by,
            "recorded_at": row.recorded_at,
            "expires_at": row.expires_at,
        }
        if row.expires_at is not None and row.expires_at <= now:
            reason = f"the evidence expired on {row.expires_at:%Y-%m-%d} ({obligation.valid_days} days)"
            found.append(ObligationStatus(**base, **recorded, status="expired", reason=reason))
        else:
            found.append(ObligationStatus(**base, **recorded, status="met", reason=f"recorded by {row.recorded_by}"))
    return found


def _blocking(product: Product, result: ClassificationResult, found: list[ObligationStatus]) -> list[str]:
    blocked = []
    if result.classification == "prohibited":
        blocked.append(
            f"not_prohibited: '{product.slug}' is declared for a prohibited use (Art. 5(1)(f)); it can never go live"
        )
    for status in found:
        if status.status != "met":
            blocked.append(f"obligations_met: {status.obligation} ({status.reference}): {status.reason}")
    return blocked


@dataclass(frozen=True)
class ReleaseCompliance:
    """What the go-live guards read about a release's compliance, and the view the pages show."""

    prohibited: str | None
    unmet: tuple[str, ...]
    blocking_findings: tuple[str, ...]
    view: ObligationsView


def release_compliance_many(
    session: Session, rows: Sequence[tuple[Release, Product, Policy]], now: datetime | None = None
) -> dict[int, ReleaseCompliance]:
    """The compliance of many releases, with one query for evidence and one for document findings."""
    now = now or utcnow()
    evidence = repository.newest_evidence(session, sorted({product.id for _, product, _ in rows}))
    wanted = [
        (slug, int(entry["version"])) for release, _, _ in rows for slug, entry in release.manifest["documents"].items()
    ]
    findings = repository.document_findings(session, wanted)
    results = {release.id: classification_of(product) for release, product, _ in rows}
    specs = _suite_specs(session, [(r, p) for r, p, _ in rows if "fairness_suite" in results[r.id].obligations])
    out: dict[int, ReleaseCompliance] = {}
    for release, product, policy in rows:
        result = results[release.id]
        suites = {
            name: specs.get((product.id, name, int(entry["version"])), {})
            for name, entry in release.manifest["suites"].items()
        }
        found = statuses(result, evidence[product.id], suites=suites, policy=policy, now=now)
        documents = [
            DocumentLint(
                document=slug,
                version=int(entry["version"]),
                findings=[Finding.model_validate(f) for f in findings.get((slug, int(entry["version"])), [])],
            )
            for slug, entry in sorted(release.manifest["documents"].items())
        ]
        flagged = [
            f"documents_pass_lint: document {d.document} v{d.version}: "
            + summarise([f.model_dump() for f in d.findings])
            for d in documents
            if d.findings
        ]
        blocking = _blocking(product, result, found)
        if policy.document_lint == "block":
            blocking += flagged
        prohibited = blocking[0].split(": ", 1)[1] if result.classification == "prohibited" else None
        out[release.id] = ReleaseCompliance(
            prohibited=prohibited,
            unmet=tuple(f"{s.obligation} ({s.reference}): {s.reason}" for s in found if s.status != "met"),
            blocking_findings=tuple(flagged) if policy.document_lint == "block" else (),
            view=ObligationsView(
                product=product.slug,
                classification=result.classification,
                release=release.number,
                obligations=found,
                blocking=blocking,
                documents=documents,
                document_lint=policy.document_lint,
            ),
        )
    return out


def _suite_specs(
    session: Session, rows: Sequence[tuple[Release, Product]]
) -> dict[tuple[int, str, int], dict[str, Any]]:
    """The specs of the releases' suites at their manifest versions: (product id, name, number) -> spec."""
    if not rows:
        return {}
    numbers = sorted({int(entry["version"]) for release, _ in rows for entry in release.manifest["suites"].values()})
    found = catalog_repo.suite_contents(session, sorted({product.id for _, product in rows}), numbers)
    return {(product_id, name, number): content["spec"] for product_id, name, number, content in found if product_id}


def product_obligations(session: Session, product: Product, policy: Policy) -> ObligationsView:
    """The product's obligations now, the fairness suite read from its current suites' heads."""
    result = classification_of(product)
    owned = [c for c in catalog_repo.owned_by_product(session, product.id) if c.kind == ComponentKind.suite.value]
    heads = catalog_repo.head_versions(session, owned)
    suites = {c.name: heads[c.id].content["spec"] if c.id in heads else {} for c in owned}
    evidence = repository.newest_evidence(session, [product.id])[product.id]
    found = statuses(result, evidence, suites=suites, policy=policy, now=utcnow())
    return ObligationsView(
        product=product.slug,
        classification=result.classification,
        obligations=found,
        blocking=_blocking(product, result, found),
        document_lint=policy.document_lint,
    )


def _validated(form: str, details: dict[str, Any]) -> dict[str, Any]:
    try:
        model = EVIDENCE_FORMS[form].model_validate(details)
    except ValidationError as exc:
        problems = [FieldProblem(field_path(["evidence", *e["loc"]]), e["msg"]) for e in exc.errors()]
        raise Invalid(f"the evidence does not fit the '{form}' form", problems=problems) from exc
    return model.model_dump(mode="json")


def _check_references(session: Session, form: str, details: dict[str, Any]) -> None:
    if form == "overseers":
        for index, name in enumerate(details["overseers"]):
            try:
                get_user(session, name)
            except NotFound as exc:
                raise Invalid(f"no user named '{name}'", field=f"evidence.overseers[{index}]") from exc
    if form == "document" and catalog_repo.get_shared(session, ComponentKind.document, details["document"]) is None:
        raise Invalid(f"no document with slug '{details['document']}'", field="evidence.document")
    dated = DATED_BY.get(form)
    if dated and date.fromisoformat(details[dated]) > utcnow().date():
        raise Invalid("lies in the future", field=f"evidence.{dated}")


def record_evidence(
    session: Session, actor: User, slug: str, obligation: str, details: dict[str, Any]
) -> ObligationEvidence:
    """Record evidence for one obligation of a product (its owner or an admin), audited.

    Raises:
        NotFound: no such product or obligation.
        Forbidden: the actor neither owns the product nor is an admin.
        Invalid: the evidence does not fit its form, names unknown users or documents, or is dated in the future;
            or the obligation is read from the release and takes no evidence.
    """
    begin_write(session)
    product = get_product(session, slug, for_update=True)
    require_product_manager(actor, product, action="recording compliance evidence")
    rule = obligation_rules().obligations.get(obligation)
    if rule is None:
        known = ", ".join(obligation_rules().obligations)
        raise NotFound(f"no obligation '{obligation}' (known: {known})", field="obligation")
    if rule.evidence == "release":
        raise Invalid(f"'{obligation}' is read from each release's suites; it takes no evidence", field="obligation")
    clean = _validated(rule.evidence, details)
    _check_references(session, rule.evidence, clean)
    expires_at = None
    dated = DATED_BY.get(rule.evidence)
    if rule.valid_days and dated:
        start = datetime.combine(date.fromisoformat(clean[dated]), time(), tzinfo=UTC)
        expires_at = start + timedelta(days=rule.valid_days)
    row = ObligationEvidence(
        product_id=product.id,
        obligation=obligation,
        details=clean,
        expires_at=expires_at,
        recorded_by=actor.name,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="obligation.evidenced",
        subject_type="product",
        subject=product.slug,
        product_slug=product.slug,
        after={
            "obligation": obligation,
            "reference": rule.reference,
            "evidence": clean,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return row


def overseers_of(session: Session, product_id: int) -> frozenset[str]:
    """The users named as the product's human overseers (Art. 14): they may suspend it."""
    row = repository.newest_evidence(session, [product_id])[product_id].get("human_oversight")
    return frozenset(row.details["overseers"]) if row else frozenset()


def reopen_expired(session: Session, now: datetime | None = None) -> list[Release]:
    """Cut a release for revalidation of every live product whose obligation evidence expired (once per expiry)."""
    now = now or utcnow()
    begin_write(session)
    cut: list[Release] = []
    for row, product_id in repository.expired_while_live(session, now):
        product = catalog_repo.get_product_by_id(session, product_id)
        if row.obligation not in classification_of(product).obligations:
            continue
        row.reopened_at = now
        rule = obligation_rules().obligations[row.obligation]
        cause = {
            "kind": "obligation_expired",
            "name": row.obligation,
            "reference": rule.reference,
            "expired_at": row.expires_at.isoformat() if row.expires_at else None,
            "author": "system",
        }
        cut += cut_releases(session, "system", [product], cause, force=True)
    session.flush()
    return cut
