"""What a bundle request carries (steward.yaml with its files' contents) and the plan it gets back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from governance.catalog.schemas import (
    DocumentPublish,
    LinksUpdate,
    ProcessPublish,
    ProductCreate,
    PromptPublish,
    SuitePublish,
)
from governance.kernel.fields import ComponentName, Slug, Strict

HeadPin = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{7,64}$"),
    Field(
        description="Apply this item only if the server's head has this sha256 (or a prefix of it, at least 7 hex "
        "digits): what CI reviewed. Otherwise the item is a conflict."
    ),
]


class _Pinned(Strict):
    expect_head: HeadPin | None = None


class BundleDocument(DocumentPublish, _Pinned):
    slug: Slug


class BundleProcess(ProcessPublish, _Pinned):
    slug: Slug


class BundlePrompt(PromptPublish, _Pinned):
    name: ComponentName


class BundleSuite(SuitePublish, _Pinned):
    name: ComponentName


class BundleRequest(Strict):
    """A whole steward.yaml with the contents of the files it names, as ``steward apply`` sends it."""

    product: ProductCreate
    documents: list[BundleDocument] = Field(default_factory=list, max_length=500)
    processes: list[BundleProcess] = Field(default_factory=list, max_length=500)
    prompts: list[BundlePrompt] = Field(default_factory=list, max_length=100)
    suites: list[BundleSuite] = Field(default_factory=list, max_length=100)
    links: LinksUpdate | None = Field(default=None, description="Replaces the product's links; omitted: unchanged.")
    force: bool = Field(
        default=False,
        description="Overwrite components whose head was published outside this bundle; each overwrite is audited.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> BundleRequest:
        for field, names in (
            ("documents", [d.slug for d in self.documents]),
            ("processes", [p.slug for p in self.processes]),
            ("prompts", [p.name for p in self.prompts]),
            ("suites", [s.name for s in self.suites]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{field} lists '{name}' more than once")
                seen.add(name)
        return self


Action = Literal["create", "update", "unchanged", "conflict", "overwrite", "refused", "skipped"]


class BundleProblem(BaseModel):
    field: str = Field(description="Where in the bundle: `documents[1].owner`, `prompts[0]`, `links`, ...")
    reason: str
    status: int = Field(description="The HTTP status the item alone would have been refused with.")


class ItemPlan(BaseModel):
    field: str = Field(description="The item's place in the bundle, e.g. `documents[1]`.")
    kind: str = Field(description="document, process, product, prompt, suite or links.")
    name: str
    action: Action
    head: int | None = Field(default=None, description="The server's head version before this bundle.")
    head_sha256: str | None = None
    head_author: str | None = None
    version: int | None = Field(default=None, description="The version the item becomes (or stays at).")
    sha256: str | None = Field(default=None, description="sha256 of the bundle's content for the item.")
    summary: str = ""
    diff: str = Field(default="", description="Unified diff from the head to the bundle's content.")


class ReleasePlan(BaseModel):
    product: str
    number: int
    state: str
    suites: list[str]
    error: str | None = Field(default=None, description="Why the release fails at once, if it cannot be tested.")


class BundlePlan(BaseModel):
    product: str
    applied: bool = Field(description="False for a plan: nothing was written.")
    items: list[ItemPlan]
    releases: list[ReleasePlan] = Field(description="The releases the bundle cuts: at most one per affected product.")
    problems: list[BundleProblem] = Field(description="Every refusal, validation error and conflict found.")
