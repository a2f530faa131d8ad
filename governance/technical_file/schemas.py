"""The technical file (AI Act Annex IV) as data: one model per section, and the document it is served as.

``TechnicalFile`` is what is hashed and frozen: everything in it is read from what Steward holds at the moment
it is assembled. ``TechnicalFileDocument`` wraps it with what is not part of the frozen content: whether and
when it was frozen (with the hash), the retention period, and the "since go-live" appendix, computed live.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from governance.compliance.classification import Reason
from governance.compliance.schemas import DocumentLint, ObligationStatus

FILE_FORMAT = 1


class Person(BaseModel):
    name: str = Field(description="The user name in Steward.")
    display_name: str = Field(description="The person's name as recorded in Steward (empty when none is).")


class GeneralSection(BaseModel):
    """Annex IV 1(a): the system, its provider-side owner and its intended purpose."""

    product: str
    name: str
    description: str
    intended_purpose: str
    owner: Person
    risk_tier: str
    release: int
    release_id: int
    state: str = Field(description="The release's state when the file was assembled.")
    manifest_hash: str
    cut_at: datetime
    cut_by: str
    cause: dict[str, Any] = Field(description="Why the release was cut.")


class ClassificationSection(BaseModel):
    """Art. 6 and Annex III: the classification of the declared HR use, article by article."""

    classification: str
    rule: str = Field(description="The rule of the classification table that decided.")
    minimum_tier: str
    risk_tier: str
    tier_justification: str | None
    aedt: bool
    rationale: list[Reason]
    obligations: list[str]
    assessment: str | None = Field(description="For an Art. 6(3) derogation: the documented assessment (Art. 6(4)).")
    version: int | None = Field(description="The classification's version; None while no HR use is declared.")
    declared_use: dict[str, Any] | None
    classified_at: datetime | None


class Component(BaseModel):
    kind: Literal["prompt", "suite", "document", "process"]
    name: str
    version: int
    sha256: str


class ComponentsSection(BaseModel):
    """Annex IV 2(a), 2(b): every component of the release at its exact version, with its content hash."""

    model: dict[str, Any] = Field(description="The model settings the prompts are sent with.")
    components: list[Component]
    links: dict[str, list[str]] = Field(description="The shared documents and processes the product links.")


class ChangeNote(BaseModel):
    kind: str
    name: str
    version: int
    author: Person
    message: str
    created_at: datetime


class ChangesSection(BaseModel):
    """Annex IV 6: what changed since the previous release, and why, in its authors' words."""

    compared_with: int | None = Field(description="The release number compared with; None for a first release.")
    changes: list[dict[str, Any]] = Field(description="Component by component: added, changed or removed.")
    notes: list[ChangeNote] = Field(description="Every version behind the change with its author's message.")


class TestRun(BaseModel):
    suite: str
    suite_version: int
    required: bool
    state: str
    provider: str
    offline: bool = Field(description="Answers came from the offline provider, not a model.")
    attempt: int
    planned: int
    pass_rate: float | None
    threshold: float | None
    required_failures: list[str]
    started_at: datetime | None
    finished_at: datetime | None


class TestsSection(BaseModel):
    """Annex IV 2(g): the test procedures (suites, policy thresholds) and their results, dated."""

    verdict: str = Field(description="PASSED, FAILED, FAILED · WAIVED or TESTING.")
    min_pass_rate: float
    required_suites: list[str]
    evidence_max_age_days: int
    offline_evidence: str = Field(description="Whether offline evidence is refused, or the reason it is accepted.")
    runs: list[TestRun]


class Signature(BaseModel):
    person: Person
    act: Literal["sign-off", "approval", "rejection", "changes requested", "go-live"]
    note: str
    waiver: str | None = None
    cycle: int | None = None
    current: bool = Field(description="Given on the release's current manifest and cycle.")
    at: datetime


class SignOffSection(BaseModel):
    """Annex IV 2(g): "dated and signed by the responsible persons": every sign-off and decision, names and times."""

    required_approvals: int
    signatures: list[Signature] = Field(description="Oldest first; go-live last, once the release went live.")


class OversightSection(BaseModel):
    """Annex IV 2(e), Art. 14: the human oversight measures and the people who exercise them."""

    overseers: list[Person]
    competence: str | None
    recorded_by: str | None
    recorded_at: datetime | None
    measures: list[str] = Field(description="The measures Steward enforces for this product, in words.")


class FairnessResult(BaseModel):
    suite: str
    state: str
    pass_rate: float | None
    threshold: float | None
    summary: dict[str, Any] | None = Field(description="The run's summary as recorded (per dimension where reported).")


class RiskSection(BaseModel):
    """Annex IV 5, Art. 9 and 10(2)(f): risk controls from the policy, and the fairness suites' results."""

    risk_tier: str
    kpi_thresholds: list[dict[str, Any]]
    suspend_on_threshold: bool
    recertify_days: int | None
    revalidation_days: int
    fairness: list[FairnessResult]
    required_failures: list[str] = Field(description="suite: case of every required case that did not pass.")


class Kpis(BaseModel):
    volume: int
    satisfaction: float | None
    override_rate: float | None
    comments: int


class IncidentEntry(BaseModel):
    release: int
    kind: str
    what_happened: str
    aware_at: datetime
    deadline_at: datetime
    reported_at: datetime | None
    authority_reference: str | None


class ProductionSection(BaseModel):
    """Annex IV 9, Art. 72 and 73: production KPIs and serious incidents known when the file was assembled."""

    as_of: datetime
    release_kpis: Kpis = Field(description="This release's feedback so far.")
    previous: int | None = Field(description="The release this one replaces, whose production record is shown too.")
    previous_kpis: Kpis | None
    incidents: list[IncidentEntry] = Field(description="Serious incidents of this release and of the previous one.")


class ObligationsSection(BaseModel):
    """The obligations the classification brings, each with its evidence, and the documents' lint findings."""

    obligations: list[ObligationStatus]
    blocking: list[str]
    document_lint: str
    documents: list[DocumentLint]


class TechnicalFile(BaseModel):
    """A release's technical file: every section of Annex IV that Steward can fill from what it holds."""

    format: int = FILE_FORMAT
    product: str
    release: int
    assembled_at: datetime
    general: GeneralSection
    classification: ClassificationSection
    components: ComponentsSection
    changes: ChangesSection
    tests: TestsSection
    signoffs: SignOffSection
    oversight: OversightSection
    risk: RiskSection
    production: ProductionSection
    obligations: ObligationsSection


# The sections in the order the file shows them: key, title, the provisions they answer.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("general", "General description and intended purpose", "Annex IV 1(a)"),
    ("classification", "Classification and its rationale", "Art. 6, Annex III"),
    ("components", "Components, versions and sha256", "Annex IV 2(a), 2(b)"),
    ("changes", "Changes since the previous release", "Annex IV 6"),
    ("tests", "Test procedures and results", "Annex IV 2(g)"),
    ("signoffs", "Sign-off and approvals", "Annex IV 2(g)"),
    ("oversight", "Human oversight", "Annex IV 2(e), Art. 14"),
    ("risk", "Risk management and fairness", "Annex IV 5, Art. 9, Art. 10(2)(f)"),
    ("production", "Production KPIs and incidents", "Annex IV 9, Art. 72, Art. 73"),
    ("obligations", "Obligations and their evidence", "Art. 16, Art. 26"),
)


class Frozen(BaseModel):
    sha256: str = Field(description="SHA-256 of the file's canonical JSON, as recorded in the audit trail.")
    frozen_at: datetime
    frozen_by: str
    audit_seq: int = Field(description="The audit event that recorded the hash.")


class Retention(BaseModel):
    years: int
    keep_until: datetime | None = Field(description="When a frozen file may be purged; None while not frozen.")


class SinceGoLive(BaseModel):
    """Computed live each time the file is served: not part of the frozen file and not covered by its hash."""

    computed_at: datetime
    went_live_at: datetime | None
    kpis: Kpis
    incidents: list[IncidentEntry]


class TechnicalFileDocument(BaseModel):
    release_id: int
    status: Literal["frozen", "draft"] = Field(
        description="frozen: stored when the release went live, never changes; draft: assembled now, as it stands."
    )
    frozen: Frozen | None
    retention: Retention
    file: TechnicalFile
    since_go_live: SinceGoLive | None = Field(
        description="Production KPIs and incidents since go-live, computed now, outside the frozen file."
    )


class SectionDiff(BaseModel):
    section: str
    title: str
    changed: bool
    diff: str = Field(description="A unified diff of the section's Markdown; empty when it did not change.")


class TechnicalFileComparison(BaseModel):
    product: str
    release: int
    compared_with: int
    sha256: str = Field(description="SHA-256 of this release's file content (frozen or as assembled now).")
    compared_sha256: str
    sections: list[SectionDiff]
