"""Evidence forms (one per kind of obligation evidence) and the views of classification and obligations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field

from governance.catalog.models import RiskTier
from governance.compliance.classification import ClassificationResult
from governance.compliance.lint import Finding
from governance.kernel.fields import Slug, Strict, Text, UserName

ShortText = Annotated[Text, Field(min_length=1, max_length=500)]
LongText = Annotated[Text, Field(min_length=1, max_length=10_000)]


class Informed(Strict):
    """Art. 26(7): workers and their representatives were informed before use."""

    informed_on: date
    channel: ShortText = Field(description="How: works council meeting, intranet notice, email, ...")
    audience: ShortText = Field(description="Who: all employees of the unit, the works council, ...")


class Overseers(Strict):
    """Art. 14, 26(2): named people with the competence and authority to stop the system; they may suspend it."""

    overseers: list[UserName] = Field(min_length=1, max_length=50)
    competence: LongText = Field(description="Their training and authority.")


class InstructionsDocument(Strict):
    """Art. 13: the instructions for use, a document in Steward."""

    document: Slug


class Dpia(Strict):
    """GDPR Art. 35: where the data protection impact assessment is kept."""

    reference: ShortText
    completed_on: date


class Assessment(Strict):
    """Art. 6(4): the documented assessment that an Annex III system is not high-risk."""

    assessed_on: date
    assessor: ShortText
    summary: LongText


class BiasAudit(Strict):
    """NYC LL144: an independent bias audit and its public summary."""

    audited_on: date
    auditor: ShortText
    summary_url: AnyHttpUrl


EVIDENCE_FORMS: dict[str, type[Strict]] = {
    "informed": Informed,
    "overseers": Overseers,
    "document": InstructionsDocument,
    "dpia": Dpia,
    "assessment": Assessment,
    "bias_audit": BiasAudit,
}
# The date each form's validity counts from.
DATED_BY = {"informed": "informed_on", "dpia": "completed_on", "assessment": "assessed_on", "bias_audit": "audited_on"}


class ClassificationView(ClassificationResult):
    product: str
    risk_tier: RiskTier = Field(
        description="The product's risk tier; never below minimum_tier without a justification."
    )
    tier_justification: str | None = Field(default=None, description="An admin's reason for a tier below the minimum.")
    version: int | None = Field(description="The classification's version; None while no HR use is declared.")
    declared_use: dict[str, Any] | None
    classified_at: datetime | None


class ObligationStatus(BaseModel):
    obligation: str
    title: str
    reference: str
    status: Literal["met", "missing", "expired"]
    reason: str = Field(description="What satisfies it, or what is missing, in words.")
    evidence: dict[str, Any] | None = None
    recorded_by: str | None = None
    recorded_at: datetime | None = None
    expires_at: datetime | None = None


class DocumentLint(BaseModel):
    document: str
    version: int
    findings: list[Finding]


class ObligationsView(BaseModel):
    product: str
    classification: str
    release: int | None = Field(default=None, description="The release number, when read for a release.")
    obligations: list[ObligationStatus]
    blocking: list[str] = Field(description="Why go-live is blocked, rule by rule; empty when nothing blocks.")
    documents: list[DocumentLint] = Field(default_factory=list, description="Lint findings of the documents.")
    document_lint: str = Field(default="warn", description="The policy's choice: findings warn or block.")


class VersionFindingsView(BaseModel):
    document: str
    version: int
    scanned: bool = Field(description="False for a version published before the lint existed.")
    findings: list[Finding]
