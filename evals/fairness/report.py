"""The fairness section of a report (pydantic models): per dimension, what was compared and what the tests say."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FairnessStatus = Literal["passed", "failed", "error", "cannot-show-bias"]

OFFLINE_LABEL = (
    "cannot show bias: the offline provider's answers are fixtures or a fixed function of the input, not a model's, so "
    "equal answers across groups prove nothing (run against a model to test fairness)"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairedTest(_Model):
    """One two-sided test of a metric between two groups, on pairs matched by base case, cue position and repeat."""

    metric: str = Field(description="What was compared, e.g. 'pass: case', 'selected: rating', 'length'.")
    groups: list[str] = Field(description="The two groups, [a, b]; effects are a minus b.")
    test: str = Field(description="exact McNemar, exact sign test or paired permutation.")
    n: int = Field(description="Pairs the test saw.")
    effect: float | None = Field(description="Effect size (see effect_name); None when undefined.")
    effect_name: str = Field(description="What the effect size is.")
    p_value: float = Field(description="Two-sided p-value.")
    p_adjusted: float = Field(description="Holm-adjusted p-value over every test of the report.")
    significant: bool = Field(description="p_adjusted < alpha.")


class PassRateParity(_Model):
    """An assertion's pass rate in each group."""

    assertion: str = Field(description="'case' (the whole case) or an assertion type (or its metric label).")
    rates: dict[str, float] = Field(description="Group -> pass rate.")
    n: dict[str, int] = Field(description="Group -> graded answers.")
    gap: float = Field(description="Highest rate minus lowest.")
    within_threshold: bool = Field(description="gap <= max_pass_rate_gap.")


class SimilarityPair(_Model):
    """How alike paired answers of two groups are."""

    groups: list[str] = Field(description="The two groups.")
    mean: float = Field(description="Mean similarity 0..1 of paired answers.")
    min: float = Field(description="Lowest similarity of a pair.")
    n: int = Field(description="Pairs compared.")


class TextDrift(_Model):
    """How far the free-text answers drift apart between groups."""

    method: str = Field(description="How similarity was measured (an embedding model, or the string ratio).")
    similarity: list[SimilarityPair] = Field(default_factory=list, description="Each pair of groups.")
    mean_words: dict[str, float] = Field(description="Group -> mean answer length in words.")
    length_gap: float = Field(description="(longest mean - shortest mean) / longest mean.")
    refusal_rates: dict[str, float] = Field(description="Group -> share of answers that refuse.")
    refusal_gap: float = Field(description="Highest refusal rate minus lowest.")


class OutputComparison(_Model):
    """A number or category read from each answer: selection rates and the impact ratio (four-fifths rule)."""

    name: str = Field(description="The output's name.")
    kind: Literal["number", "category"] = Field(description="number or category.")
    selection: str = Field(description="What counts as selected.")
    selection_rates: dict[str, float] = Field(description="Group -> share selected.")
    impact_ratios: dict[str, float] | None = Field(
        description="Group -> selection rate / the most favoured group's; None when nobody was selected."
    )
    most_favoured: str | None = Field(description="The group with the highest selection rate.")
    means: dict[str, float] | None = Field(default=None, description="number: group -> mean value.")
    unparsed: int = Field(description="Answers the regex found no (valid) value in; left out.")


class DimensionFairness(_Model):
    """One perturbed dimension's verdict and the evidence for it."""

    dimension: str = Field(description="gender, ethnicity, pronouns, age, ...")
    description: str = Field(default="", description="What the cue is.")
    groups: list[str] = Field(description="The groups compared.")
    sources: list[str] = Field(default_factory=list, description="Where the cues come from.")
    status: FairnessStatus = Field(description="passed, failed, error, or cannot-show-bias (offline answers).")
    findings: list[str] = Field(default_factory=list, description="Each threshold crossed or significant test.")
    errors: list[str] = Field(default_factory=list, description="What could not be compared (an error, never a pass).")
    pairs: int = Field(description="Matched sets (base case x cue position x repeat) with an answer for every group.")
    missing: int = Field(description="Variant executions with no graded answer (errors, not run).")
    pass_rates: list[PassRateParity] = Field(default_factory=list, description="Pass-rate parity per assertion.")
    text: TextDrift | None = Field(default=None, description="Free-text drift, when compared.")
    outputs: list[OutputComparison] = Field(default_factory=list, description="Numbers and categories compared.")
    tests: list[PairedTest] = Field(default_factory=list, description="Every paired test of this dimension.")


class FairnessReport(_Model):
    """Counterfactual fairness across the suite's dimensions; thresholds decide, tests are Holm-corrected."""

    status: FairnessStatus = Field(description="failed if any dimension failed; error, cannot-show-bias as labelled.")
    reason: str = Field(default="", description="Why the status is what it is, in words.")
    offline: bool = Field(description="True when the answers came from the offline provider (cannot show bias).")
    alpha: float = Field(description="Family-wise error rate the corrected tests are held to.")
    correction: str = Field(default="holm", description="Multiple-comparison correction.")
    tests: int = Field(description="Tests in the family the correction covers.")
    thresholds: dict[str, float] = Field(description="The policy thresholds applied.")
    dimensions: list[DimensionFairness] = Field(description="One entry per dimension.")
