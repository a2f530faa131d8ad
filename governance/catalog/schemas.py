"""Payloads and views of products, components, versions and links."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from governance.catalog import repository as components_repo
from governance.catalog.models import Component, ComponentVersion, Lifecycle, RiskTier
from governance.kernel.fields import Message, Slug, Strict, Text, UserName

ProductStatus = Literal["compliant", "revalidation_required", "no_release"]


class VersionSummary(BaseModel):
    number: int
    sha256: str
    author: str
    created_at: datetime
    message: str


class VersionView(VersionSummary):
    kind: str
    name: str = Field(description="Prompt or suite name, or document or process slug.")
    product: str | None = Field(description="The owning product's slug, for prompts and suites.")
    content: dict[str, Any]


class PublishView(BaseModel):
    created: bool = Field(description="False when the content equals the head: no new version was made.")
    detail: str
    version: VersionView


class ComponentView(BaseModel):
    kind: str
    name: str
    owner: str | None = Field(description="Owner of a document or process; prompts and suites follow the product.")
    head: VersionSummary | None


class LinkedDocumentView(ComponentView):
    title: str | None


class LinkedProcessView(ComponentView):
    documents: list[str] = Field(description="Documents the process's head version references.")


class ModelView(BaseModel):
    provider: str
    name: str
    temperature: float
    max_tokens: int


class ProductSummary(BaseModel):
    slug: str
    name: str
    owner: str
    risk_tier: str
    lifecycle: str
    status: ProductStatus
    revalidation_due_at: datetime | None = Field(default=None, description="When revalidation is due, if it is.")
    overdue: bool = Field(default=False, description="Revalidation is past its due date.")
    live_release_number: int | None = Field(
        default=None, description="The live release's number within the product: the one people quote."
    )
    pending_release_number: int | None = Field(
        default=None, description="The number of the newest release not yet live (being tested or decided)."
    )
    live_release: int | None = Field(default=None, description="The live release's global id (older clients).")
    pending_release: int | None = Field(default=None, description="The pending release's global id (older clients).")
    updated_at: datetime


class ProductView(ProductSummary):
    description: str
    intended_purpose: str
    declared_use: DeclaredUse | None = Field(default=None, description="The declared HR use it is classified by.")
    model: ModelView
    created_at: datetime
    prompts: list[ComponentView]
    suites: list[ComponentView]
    documents: list[LinkedDocumentView]
    processes: list[LinkedProcessView]


class LinksView(BaseModel):
    documents: list[str]
    processes: list[str]


class DiffView(BaseModel):
    kind: str
    name: str
    from_version: int = Field(serialization_alias="from")
    to_version: int = Field(serialization_alias="to")
    diff: str = Field(description="Unified diff; empty when the versions are equal.")


def version_summary(version: ComponentVersion) -> VersionSummary:
    return VersionSummary(
        number=version.number,
        sha256=version.sha256,
        author=version.author.name,
        created_at=version.created_at,
        message=version.message,
    )


def version_view(component: Component, version: ComponentVersion, product_slug: str | None = None) -> VersionView:
    return VersionView(
        **version_summary(version).model_dump(),
        kind=component.kind,
        name=component.name,
        product=product_slug,
        content=version.content,
    )


def shared_component_view(session: Session, component: Component) -> ComponentView:
    version = components_repo.get_version(session, component.id, component.head_number)
    return ComponentView(
        kind=component.kind,
        name=component.name,
        owner=component.owner.name if component.owner else None,
        head=version_summary(version) if version else None,
    )


class ModelSettings(Strict):
    """The model a product runs on; the same shape as an eval suite's ``model``."""

    provider: Annotated[Text, Field(min_length=1, max_length=64, description="offline, openai, ...")]
    name: Annotated[Text, Field(min_length=1, max_length=200, description="Model name at the provider.")]
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=1024, ge=1, le=200_000, description="Upper bound on output tokens.")


class HrUse(enum.StrEnum):
    """The HR uses a product may declare; ``governance/compliance/rules/classification.yaml`` classifies each."""

    recruitment_advertising = "recruitment_advertising"
    candidate_screening = "candidate_screening"
    candidate_ranking = "candidate_ranking"
    candidate_evaluation = "candidate_evaluation"
    work_decisions = "work_decisions"
    task_allocation = "task_allocation"
    performance_monitoring = "performance_monitoring"
    emotion_recognition = "emotion_recognition"
    drafting_help = "drafting_help"
    policy_questions = "policy_questions"


class DeclaredUse(Strict):
    """What the product is used for in HR, and the answers the AI Act's Art. 6(3) derogation turns on."""

    uses: list[HrUse] = Field(min_length=1, max_length=10, description="Every HR use the product serves.")
    narrow_procedural_task: bool = Field(default=False, description="Art. 6(3)(a): a narrow procedural task.")
    improves_completed_human_activity: bool = Field(
        default=False, description="Art. 6(3)(b): improves the result of a completed human activity."
    )
    detects_patterns_without_replacing_assessment: bool = Field(
        default=False, description="Art. 6(3)(c): detects decision patterns without replacing a human assessment."
    )
    preparatory_task: bool = Field(default=False, description="Art. 6(3)(d): a task preparatory to an assessment.")
    profiles_people: bool = Field(
        default=False, description="Profiles natural persons: rules the Art. 6(3) derogation out."
    )
    nyc_aedt: bool = Field(
        default=False,
        description="Substantially assists hiring or promotion decisions in New York City (an LL144 AEDT).",
    )

    @field_validator("uses")
    @classmethod
    def _unique_uses(cls, value: list[HrUse]) -> list[HrUse]:
        if len(set(value)) != len(value):
            raise ValueError("lists a use more than once")
        return sorted(value)


class ProductCreate(Strict):
    slug: Slug
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(default="", max_length=10_000)]
    owner: UserName | None = Field(default=None, description="Owner's user name; defaults to the caller.")
    intended_purpose: Annotated[Text, Field(default="", max_length=10_000)]
    risk_tier: RiskTier
    model: ModelSettings
    lifecycle: Lifecycle = Lifecycle.draft
    declared_use: DeclaredUse | None = Field(default=None, description="The HR use Steward classifies.")


class ProductUpdate(Strict):
    name: Annotated[Text | None, Field(default=None, min_length=1, max_length=200)]
    description: Annotated[Text | None, Field(default=None, max_length=10_000)]
    owner: UserName | None = None
    intended_purpose: Annotated[Text | None, Field(default=None, max_length=10_000)]
    risk_tier: RiskTier | None = None
    model: ModelSettings | None = None
    lifecycle: Lifecycle | None = None
    declared_use: DeclaredUse | None = None
    risk_tier_justification: Annotated[
        Text | None,
        Field(
            default=None,
            min_length=10,
            max_length=5000,
            description="Why the risk tier is set below the computed one (admins only; audited).",
        ),
    ]


class PromptPublish(Strict):
    template: Annotated[Text, Field(min_length=1, description="Jinja2 template text.")]
    message: Message


class SuitePublish(Strict):
    spec: dict[str, Any] = Field(description="The suite document (see `steward eval schema`).")
    message: Message


class DocumentPublish(Strict):
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    content: Text
    content_type: str = Field(
        default="text/markdown",
        pattern=r"^(text/[a-z0-9.+-]+|application/(json|yaml|x-yaml))$",
        description="A text media type: text/markdown, text/plain, text/html, application/json, ...",
    )
    owner: UserName | None = Field(default=None, description="Owner's user name; defaults to the caller.")
    message: Message


class ProcessStep(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(default="", max_length=5000)]
    actor: Annotated[Text, Field(default="", max_length=200, description="Who performs the step.")]


class ProcessPublish(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(default="", max_length=10_000)]
    steps: list[ProcessStep] = Field(min_length=1, max_length=200)
    documents: list[Slug] = Field(default_factory=list, max_length=500, description="Referenced documents.")
    owner: UserName | None = Field(default=None, description="Owner's user name; defaults to the caller.")
    message: Message

    @field_validator("documents")
    @classmethod
    def _unique_documents(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a document more than once")
        return value


class LinksUpdate(Strict):
    documents: list[Slug] = Field(default_factory=list, max_length=1000)
    processes: list[Slug] = Field(default_factory=list, max_length=1000)

    @field_validator("documents", "processes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a slug more than once")
        return value
