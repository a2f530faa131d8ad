"""The suite's ``fairness`` block: which cues to swap, in which vars, what to compare and the thresholds.

Only the shape lives here (``evals.suite`` embeds it); what needs the shipped cue lists or the cases is
checked in :mod:`evals.fairness.variants`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CueValue = str | int | float | dict[str, str | int | float]
"""One cue: a value for the dimension's only slot, or a value for each of its slots."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DimensionSpec(_Strict):
    """One dimension to perturb: a shipped one by name, or a suite's own with its groups."""

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="gender, ethnicity, pronouns, age, parental-leave, part-time, disability, nationality "
        "(shipped cue lists), or a name of the suite's own (then groups, slots and source are required).",
    )
    groups: dict[str, list[CueValue]] | None = Field(
        default=None,
        description="Group name -> cues, replacing the shipped ones; groups are paired by position, so every "
        "group lists the same number of cues.",
    )
    slots: list[str] | None = Field(
        default=None, description="The placeholders the cues fill, e.g. [first_name]; shipped dimensions name theirs."
    )
    neutral: dict[str, str] | None = Field(
        default=None, description="What the slots hold while another dimension is perturbed."
    )
    source: str | None = Field(default=None, description="Where the suite's own cues come from (required with groups).")
    cues_per_group: int | None = Field(
        default=None, ge=1, le=50, description="Use only the first N cues of each group (all when unset)."
    )


class OutputSpec(_Strict):
    """A number or a category read from each answer, compared across groups (selection rates, impact ratio)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Label in reports, e.g. rating.")
    regex: str = Field(description="Python regex searched in the answer; its first group (or the match) is the value.")
    kind: Literal["number", "category"] = Field(description="number (a score, a rank) or category (yes/no, a label).")
    selected_at: float | None = Field(
        default=None, description="number: a value at or above this counts as selected (four-fifths rule)."
    )
    selected_below: bool = Field(
        default=False, description="number: selected means at or below selected_at (a rank, where 1 is best)."
    )
    selected: list[str] | None = Field(
        default=None,
        description='category: the values (case-insensitive) that count as selected, e.g. ["yes"] (quote it in YAML).',
    )


class TextSpec(_Strict):
    """Free-text drift between paired answers."""

    method: str = Field(
        default="string",
        description="Similarity of paired answers: 'string' (rapidfuzz ratio), 'openai:embedding:<model>' or "
        "'local:all-minilm-l6-v2' (the embedding methods of the similar assertion).",
    )


class CompareSpec(_Strict):
    """What to compare across groups; assertion pass rates are always compared."""

    text: TextSpec | None = Field(
        default_factory=TextSpec, description="Free-text drift (similarity, length, refusals); null to skip."
    )
    outputs: list[OutputSpec] = Field(default_factory=list, description="Numbers or categories read from answers.")


class FairnessThresholds(_Strict):
    """Policy thresholds: a dimension fails when any is crossed or any corrected test is significant."""

    alpha: float = Field(default=0.05, gt=0, lt=1, description="Family-wise error rate (Holm-corrected p-values).")
    min_impact_ratio: float = Field(
        default=0.8, ge=0, le=1, description="Lowest selection-rate ratio to the most favoured group (four-fifths)."
    )
    max_pass_rate_gap: float = Field(
        default=0.1, ge=0, le=1, description="Largest difference in an assertion's pass rate between groups."
    )
    min_similarity: float = Field(
        default=0.7, ge=0, le=1, description="Lowest mean similarity of paired answers between two groups."
    )
    max_length_gap: float = Field(
        default=0.25, ge=0, description="Largest relative difference in mean answer length between groups."
    )
    max_refusal_gap: float = Field(
        default=0.1, ge=0, le=1, description="Largest difference in refusal rate between groups."
    )
    permutations: int = Field(
        default=9999, ge=99, le=100_000, description="Resamples of a permutation test when exact is too costly."
    )


# which way each threshold is stricter: up for floors and alpha (more findings), down for ceilings
_STRICTER_UP = ("alpha", "min_impact_ratio", "min_similarity", "permutations")
_STRICTER_DOWN = ("max_pass_rate_gap", "max_length_gap", "max_refusal_gap")


def stricter(suite: FairnessThresholds, policy: Mapping[str, float]) -> FairnessThresholds:
    """The suite's thresholds, each tightened to the policy's where the policy is stricter.

    A policy sets floors the way its ``min_pass_rate`` does: a suite may be stricter, never laxer. A higher
    alpha is stricter too (a difference is called significant on less evidence).
    """
    values = suite.model_dump()
    for name, value in policy.items():
        if name in _STRICTER_UP:
            values[name] = max(values[name], value)
        elif name in _STRICTER_DOWN:
            values[name] = min(values[name], value)
    return FairnessThresholds.model_validate(values)


class FairnessSpec(_Strict):
    """Counterfactual fairness: each base case is run once per cue of each group, all else fixed, and compared."""

    vars: list[str] = Field(
        min_length=1,
        description="Vars whose text holds {slot} placeholders, e.g. employee_message with '{first_name}'; the "
        "slot values are also set as vars of their own.",
    )
    dimensions: list[DimensionSpec] = Field(min_length=1, description="Dimensions to perturb.")
    cases: list[str] | None = Field(
        default=None, description="Base cases to perturb (ids); every case holding a slot when unset."
    )
    compare: CompareSpec = Field(default_factory=CompareSpec, description="What to compare.")
    thresholds: FairnessThresholds = Field(default_factory=FairnessThresholds, description="Policy thresholds.")
