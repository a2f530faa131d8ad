"""What callers send: validated payloads for users, products, components and links.

The HTTP API and the CLI hand these to the same domain functions, so the rules live here once.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from governance.models import Lifecycle, RiskTier, Role


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text and no HR content needs it: refuse it at the door.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$"),
    Field(description="3 to 64 characters: lowercase letters, digits and '-', not starting or ending with '-'."),
]
ComponentName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$"),
    Field(description="1 to 64 characters: lowercase letters, digits, '_', '.', '-'."),
]
UserName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$"),
    Field(description="2 to 64 characters: lowercase letters, digits, '_', '.', '-'."),
]
Message = Annotated[Text, Field(default="", max_length=2000, description="Why this version exists.")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ModelSettings(Strict):
    """The model a product runs on; the same shape as an eval suite's ``model``."""

    provider: Annotated[Text, Field(min_length=1, max_length=64, description="offline, openai, ...")]
    name: Annotated[Text, Field(min_length=1, max_length=200, description="Model name at the provider.")]
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=1024, ge=1, le=200_000, description="Upper bound on output tokens.")


class UserCreate(Strict):
    name: UserName
    display_name: Annotated[Text, Field(default="", max_length=200)]
    email: Annotated[Text | None, Field(default=None, max_length=320)]
    roles: list[Role] = Field(min_length=1, description="One or more of admin, product_owner, reviewer, ci.")


class ProductCreate(Strict):
    slug: Slug
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(default="", max_length=10_000)]
    owner: UserName | None = Field(default=None, description="Owner's user name; defaults to the caller.")
    intended_purpose: Annotated[Text, Field(default="", max_length=10_000)]
    risk_tier: RiskTier
    model: ModelSettings
    lifecycle: Lifecycle = Lifecycle.draft


class ProductUpdate(Strict):
    name: Annotated[Text | None, Field(default=None, min_length=1, max_length=200)]
    description: Annotated[Text | None, Field(default=None, max_length=10_000)]
    owner: UserName | None = None
    intended_purpose: Annotated[Text | None, Field(default=None, max_length=10_000)]
    risk_tier: RiskTier | None = None
    model: ModelSettings | None = None
    lifecycle: Lifecycle | None = None


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
