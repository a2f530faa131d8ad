"""The report format (version 1): what a run produced, per case and in total, as pydantic models.

Results are built on the runner's hot path with ``model_construct`` (the runner produces them, so
validating each again would only cost time); reports read back from JSON are validated.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from evals.fairness.report import FairnessReport, FairnessStatus

REPORT_FORMAT_VERSION: Final = 1

Outcome = Literal["passed", "failed", "error"]
RunStatus = Literal["passed", "failed", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssertionResult(_Model):
    """One assertion's verdict on one answer."""

    type: str = Field(description="Assertion name, e.g. contains.")
    args: dict[str, Any] = Field(default_factory=dict, description="Its arguments (value, threshold, weight, ...).")
    outcome: Outcome = Field(description="passed, failed, or error (could not be evaluated).")
    score: float = Field(description="0..1.")
    reason: str = Field(description="Why it passed, failed or errored.")
    weight: float = Field(default=1.0, description="Weight in the case score; 0 is informational.")


class ChatMessage(_Model):
    """One rendered chat message."""

    role: str = Field(description="system, user, assistant or developer.")
    content: str = Field(description="Rendered text.")


class CaseResult(_Model):
    """One execution of one case (one repeat): identified by (case_id, repeat_index)."""

    case_id: str = Field(description="The case's id.")
    repeat_index: int = Field(default=0, description="0-based repeat number.")
    outcome: Outcome = Field(description="passed, failed, or error (not executed or not graded).")
    score: float = Field(default=0.0, description="Weighted assertion score 0..1.")
    messages: list[ChatMessage] = Field(default_factory=list, description="Rendered input.")
    output: str | None = Field(default=None, description="The model's answer; None when there was none.")
    assertions: list[AssertionResult] = Field(default_factory=list, description="Each assertion's verdict.")
    latency_ms: float | None = Field(default=None, description="Model call latency (original call's if cached).")
    prompt_tokens: int = Field(default=0, description="Prompt tokens.")
    completion_tokens: int = Field(default=0, description="Answer tokens.")
    cost_usd: float | None = Field(default=None, description="Cost of the call; None when the price is unknown.")
    cached: bool = Field(default=False, description="Whether the answer came from the response cache.")
    offline: bool = Field(default=False, description="Whether the answer came from the offline provider.")
    attempts: int = Field(default=0, description="Provider calls made (retries included; 0 when cached).")
    error: str | None = Field(default=None, description="Why the case could not be executed or graded.")
    prompt: str | None = Field(
        default=None, description="In a prompt x provider matrix: the prompt of this execution; else None."
    )
    provider: str | None = Field(
        default=None, description="In a prompt x provider matrix: the provider of this execution; else None."
    )


class CaseSummary(_Model):
    """A case across its repeats."""

    case_id: str = Field(description="The case's id.")
    runs: int = Field(description="Repeats executed.")
    passed: int = Field(description="Repeats that passed.")
    errors: int = Field(description="Repeats that errored.")
    pass_rate: float = Field(description="passed / runs; between 0 and 1 means flaky.")
    outcome: Outcome = Field(description="passed if every repeat passed; error if any errored; else failed.")
    weight: float = Field(description="Weight in the suite pass rate.")
    required: bool = Field(description="Whether the case must pass regardless of the pass rate.")
    tags: list[str] = Field(default_factory=list, description="The case's tags.")


class CaseRef(_Model):
    """A (case, repeat) pair."""

    case_id: str = Field(description="The case's id.")
    repeat_index: int = Field(description="0-based repeat number.")
    prompt: str | None = Field(default=None, description="In a matrix: the prompt of the execution.")
    provider: str | None = Field(default=None, description="In a matrix: the provider of the execution.")


class CombinationSummary(_Model):
    """One prompt x provider combination of a matrix run: its own pass rate and verdict."""

    prompt: str = Field(description="The prompt.")
    provider: str = Field(description="Provider and model, e.g. openai:gpt-4o-mini.")
    offline: bool = Field(description="True when its answers came from the offline provider.")
    status: RunStatus = Field(description="Its verdict, by the suite's threshold and required cases.")
    pass_rate: float = Field(description="Weighted pass rate of its cases (repeats averaged).")
    runs: int = Field(description="Executions planned.")
    passed: int = Field(description="Executions that passed.")
    failed: int = Field(description="Executions that failed.")
    errors: int = Field(description="Executions that errored.")
    not_run: int = Field(description="Executions never finished.")
    required_failures: list[str] = Field(default_factory=list, description="Required cases that did not pass.")


class Counts(_Model):
    """How many of what."""

    cases: int = Field(description="Distinct cases planned.")
    runs: int = Field(description="Case executions planned (cases x repeats).")
    passed: int = Field(description="Executions that passed.")
    failed: int = Field(description="Executions that failed.")
    errors: int = Field(description="Executions that errored.")
    not_run: int = Field(description="Executions never finished (cancelled or stopped).")
    cached: int = Field(description="Executions answered from the cache.")


class Totals(_Model):
    """Usage and timing summed over the run."""

    prompt_tokens: int = Field(description="Prompt tokens.")
    completion_tokens: int = Field(description="Answer tokens.")
    cost_usd: float = Field(description="Cost of answers with a known price (cached answers included).")
    cost_unknown: int = Field(description="Answers whose model has no price.")
    latency_ms_mean: float | None = Field(description="Mean model latency.")
    latency_ms_p95: float | None = Field(description="95th percentile model latency.")
    provider_calls: int = Field(description="Calls made to providers, judges and retries included.")
    duration_s: float = Field(description="Wall time of the run.")


class Summary(_Model):
    """The verdict of a run."""

    status: RunStatus = Field(description="passed only if every case was executed and graded and thresholds met.")
    cancelled: bool = Field(default=False, description="Whether the run was cancelled before it finished.")
    error: str | None = Field(default=None, description="What stopped the run, if something did.")
    pass_rate: float = Field(description="Weighted pass rate over executed cases (repeats averaged).")
    threshold: float = Field(description="The suite's minimum pass rate.")
    required_failures: list[str] = Field(default_factory=list, description="Required cases that did not pass.")
    counts: Counts = Field(description="Counts.")
    totals: Totals = Field(description="Usage and timing.")
    provider: str = Field(description="Provider and model, e.g. openai:gpt-4o-mini or offline:goal-coach.")
    offline: bool = Field(description="True when answers came from the offline provider, not a model.")
    judge_provider: str | None = Field(default=None, description="Provider used for llm-rubric, if any ran.")
    judge_offline: bool = Field(default=False, description="True when llm-rubric verdicts are offline heuristics.")
    fairness: FairnessStatus | None = Field(
        default=None, description="The fairness verdict, when the suite has a fairness block (see Report.fairness)."
    )
    combinations: list[CombinationSummary] = Field(
        default_factory=list,
        description="A prompt x provider matrix's combinations, each with its pass rate and verdict (the run "
        "passes only if each does); empty for a run of one prompt on one provider.",
    )


class Comparison(_Model):
    """Differences from a baseline report, by case."""

    baseline: str = Field(description="Where the baseline came from (file name or run id).")
    regressions: list[str] = Field(default_factory=list, description="Passed in the baseline, not now.")
    fixes: list[str] = Field(default_factory=list, description="Did not pass in the baseline, pass now.")
    new: list[str] = Field(default_factory=list, description="Cases not in the baseline.")
    removed: list[str] = Field(default_factory=list, description="Baseline cases not in this run.")


class Report(_Model):
    """Everything a run produced; enough to re-create it (assertion names and arguments are kept)."""

    version: Literal[1] = Field(default=REPORT_FORMAT_VERSION, description="Report format version; 1.")
    suite: str = Field(description="Suite name.")
    suite_description: str = Field(default="", description="Suite description.")
    started_at: str = Field(description="ISO 8601 UTC start time.")
    finished_at: str = Field(description="ISO 8601 UTC end time.")
    summary: Summary = Field(description="The verdict.")
    comparison: Comparison | None = Field(default=None, description="Differences from a baseline, if given.")
    cases: list[CaseSummary] = Field(default_factory=list, description="Each case across its repeats.")
    not_run: list[CaseRef] = Field(default_factory=list, description="Executions that never finished.")
    results: list[CaseResult] = Field(default_factory=list, description="Every execution, in plan order.")
    fairness: FairnessReport | None = Field(
        default=None, description="Counterfactual fairness per dimension, when the suite has a fairness block."
    )


_M = TypeVar("_M", bound=BaseModel)
_FIELD_SETS: dict[type[BaseModel], set[str]] = {}


def construct(cls: type[_M], values: dict[str, object]) -> _M:
    """Build a model from trusted values, every field given, with no validation and no copies.

    What ``model_construct`` does minus its per-field loop and per-instance field set: at 10,000
    cases that loop and those sets cost more CPU and memory than the results themselves. The field
    set is shared by all instances of a class; it is never mutated.
    """
    fields_set = _FIELD_SETS.get(cls)
    if fields_set is None:
        fields_set = _FIELD_SETS[cls] = set(cls.model_fields)
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of the report format."""
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Steward eval report"
    return schema
