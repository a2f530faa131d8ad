"""The statistics of counterfactual fairness: paired, two-sided tests, Holm's correction, effect sizes, impact ratios.

Every test is on *paired* data (the same base case and cue position answered for two groups), two-sided
(a model favouring either group is a finding), and reported with an effect size: a p-value alone says
how surprising a difference is, not how big. scipy does the exact binomial and the permutation tests.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# scipy (and numpy under it) is imported by the tests that use it: importing it costs most of a second, which every
# `steward eval run` and every server start would pay though only suites with a `fairness` block need it.


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """One two-sided test: its p-value, the effect size and how many pairs it saw."""

    test: str
    p_value: float
    effect: float | None
    effect_name: str
    n: int


def sign_test(positives: int, negatives: int) -> TestOutcome:
    """Exact two-sided sign test: are positive and negative paired differences equally likely? (ties dropped)

    The effect is the share of positives among the non-tied pairs minus one half.
    """
    n = positives + negatives
    if n == 0:
        return TestOutcome("exact sign test", 1.0, 0.0, "share of positive differences - 0.5", 0)
    from scipy import stats

    p = float(stats.binomtest(positives, n, 0.5, alternative="two-sided").pvalue)
    return TestOutcome("exact sign test", min(p, 1.0), positives / n - 0.5, "share of positive differences - 0.5", n)


def mcnemar_exact(pairs: Sequence[tuple[bool, bool]]) -> TestOutcome:
    """Exact McNemar test on paired pass/fail outcomes (a, b): a sign test on the discordant pairs.

    The effect is the difference in pass rates, rate(a) - rate(b) = (n10 - n01) / n over all pairs.
    """
    n10 = sum(1 for a, b in pairs if a and not b)
    n01 = sum(1 for a, b in pairs if b and not a)
    n = len(pairs)
    discordant = n10 + n01
    from scipy import stats

    p = float(stats.binomtest(n10, discordant, 0.5, alternative="two-sided").pvalue) if discordant else 1.0
    return TestOutcome("exact McNemar", min(p, 1.0), (n10 - n01) / n if n else 0.0, "difference in rate", n)


def paired_permutation(
    x: Sequence[float], y: Sequence[float], *, resamples: int = 9999, seed: int = 0, exact_up_to: int = 2**17
) -> TestOutcome:
    """Two-sided paired permutation test of the mean difference x - y (signs of the differences flipped).

    Exact (every one of the 2^n sign patterns) when 2^n is at most ``exact_up_to``, else ``resamples``
    random patterns from a fixed seed, so a report is reproducible. The effect is Cohen's d_z: the mean
    difference over the standard deviation of the differences (0 when they do not vary).
    """
    n = len(x)
    if n != len(y):
        raise ValueError("paired samples must have the same length")
    if n == 0:
        return TestOutcome("paired permutation", 1.0, 0.0, "Cohen's d_z", 0)
    import numpy as np
    from scipy import stats

    diffs = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    if not np.any(diffs) or n == 1:
        # no difference, or one pair whose two sign patterns are equally extreme: p is exactly 1
        return TestOutcome("paired permutation", 1.0, 0.0 if n > 1 else None, "Cohen's d_z", n)
    if 2**n <= exact_up_to:
        resamples = max(resamples, 2**n)

    def mean_difference(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(a - b, axis=axis)  # type: ignore[no-any-return]

    result = stats.permutation_test(
        (np.asarray(x, dtype=float), np.asarray(y, dtype=float)),
        mean_difference,
        permutation_type="samples",
        alternative="two-sided",
        n_resamples=resamples,
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    sd = float(np.std(diffs, ddof=1)) if n > 1 else 0.0
    # constant non-zero differences have no spread to scale by: d_z is undefined (None), not infinite
    effect = float(np.mean(diffs)) / sd if sd > 0 else None
    return TestOutcome("paired permutation", min(float(result.pvalue), 1.0), effect, "Cohen's d_z", n)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the order given.

    The i-th smallest p (1-based) is multiplied by m - i + 1, capped at 1 and made non-decreasing.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def selection_rates(selected: Mapping[str, Sequence[bool]]) -> dict[str, float]:
    """Each group's share selected (groups with no observations are left out)."""
    return {group: sum(values) / len(values) for group, values in selected.items() if values}


def impact_ratios(rates: Mapping[str, float]) -> dict[str, float] | None:
    """Each group's selection rate over the most favoured group's (the four-fifths rule's ratio).

    None when no group was selected at all: there is no favoured group to compare with.
    """
    best = max(rates.values(), default=0.0)
    if best <= 0:
        return None
    return {group: rate / best for group, rate in rates.items()}


def median(values: Sequence[float]) -> float:
    return float(statistics.median(float(value) for value in values))
