"""Each fairness statistic against values worked out by hand or published in textbooks, and its properties."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.fairness.statistics import (
    holm,
    impact_ratios,
    mcnemar_exact,
    paired_permutation,
    selection_rates,
    sign_test,
)


def binomial_two_sided(k: int, n: int) -> float:
    """Two-sided exact binomial p at 1/2 from first principles: twice the smaller tail, capped at 1."""
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_mcnemar_exact_on_hand_worked_tables():
    # 1 pair passed only for a, 9 only for b: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024
    outcome = mcnemar_exact([(True, False)] * 1 + [(False, True)] * 9 + [(True, True)] * 5)
    assert outcome.p_value == pytest.approx(22 / 1024)
    assert outcome.n == 15
    assert outcome.effect == pytest.approx((1 - 9) / 15)  # difference in pass rates, a minus b
    # 5 discordant pairs all one way: 2 / 2^5
    assert mcnemar_exact([(False, True)] * 5).p_value == pytest.approx(0.0625)
    # concordant pairs only: no evidence of a difference at all
    assert mcnemar_exact([(True, True), (False, False)]).p_value == 1.0
    assert mcnemar_exact([]).n == 0


@given(st.integers(0, 40), st.integers(0, 40))
def test_mcnemar_is_the_exact_two_sided_binomial_and_symmetric(b: int, c: int):
    pairs = [(True, False)] * b + [(False, True)] * c
    p = mcnemar_exact(pairs).p_value
    assert p == pytest.approx(binomial_two_sided(b, b + c) if b + c else 1.0)
    swapped = mcnemar_exact([(y, x) for x, y in pairs])
    assert swapped.p_value == pytest.approx(p)  # two-sided: favouring either group counts the same
    assert 0.0 <= p <= 1.0


def test_sign_test_on_a_textbook_count():
    # 9 positive and 1 negative differences (ties dropped): p = 22/1024 ≈ 0.0215
    outcome = sign_test(9, 1)
    assert outcome.p_value == pytest.approx(0.021484375)
    assert outcome.effect == pytest.approx(0.4)
    assert sign_test(0, 0).p_value == 1.0


# Darwin's Zea mays data as Fisher analysed it (The Design of Experiments, 1935, section 21): height differences,
# crossed minus self-fertilised, in eighths of an inch. Of the 2^15 sign patterns, 1726 give a mean difference at
# least as extreme as the observed one in either direction: two-sided p = 1726/32768 ≈ 0.0527.
DARWIN = [49, -67, 8, 16, 6, 23, 28, 41, 14, 29, 56, 24, 75, 60, -48]


def test_paired_permutation_reproduces_fishers_exact_test_on_darwins_data():
    outcome = paired_permutation(DARWIN, [0] * len(DARWIN))
    assert outcome.p_value == pytest.approx(1726 / 32768)
    mean = sum(DARWIN) / 15
    sd = math.sqrt(sum((d - mean) ** 2 for d in DARWIN) / 14)
    assert outcome.effect == pytest.approx(mean / sd)  # Cohen's d_z
    assert outcome.n == 15


def test_paired_permutation_small_exact_cases():
    # five positive differences: only the all-plus and all-minus patterns are as extreme, 2/32
    assert paired_permutation([3, 4, 5, 6, 7], [1, 1, 1, 1, 1]).p_value == pytest.approx(2 / 32)
    # differences 1, 2, 3: mean 2, sd 1, so d_z = 2
    assert paired_permutation([2, 4, 6], [1, 2, 3]).effect == pytest.approx(2.0)
    same = paired_permutation([1, 2, 3], [1, 2, 3])
    assert (same.p_value, same.effect) == (1.0, 0.0)
    assert paired_permutation([5], [1]).p_value == 1.0  # one pair: both sign patterns are as extreme
    constant = paired_permutation([2, 3, 4, 5], [1, 2, 3, 4])
    assert constant.effect is None and constant.p_value == pytest.approx(2 / 16)
    with pytest.raises(ValueError):
        paired_permutation([1, 2], [1])


def test_permutation_tests_are_exact_up_to_2_to_the_17_patterns_then_sampled():
    # every one of 17 pairs lower by the same amount: exact p is 2 / 2^17
    assert paired_permutation([1] * 17, [2] * 17).p_value == pytest.approx(2 / 2**17)
    # 18 pairs: sampled; a Monte Carlo p counts the observed pattern too, so it is at least 2 / (resamples + 1)
    assert paired_permutation([1] * 18, [2] * 18, resamples=999).p_value == pytest.approx(2 / 1000)


def test_large_permutation_tests_are_sampled_reproducibly():
    x = [float(i % 7) for i in range(40)]
    y = [float((i * 3) % 7) for i in range(40)]
    first = paired_permutation(x, y, resamples=999, seed=3)
    assert first == paired_permutation(x, y, resamples=999, seed=3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), min_size=2, max_size=10))
def test_paired_permutation_is_two_sided(pairs: list[tuple[int, int]]):
    x, y = [a for a, _ in pairs], [b for _, b in pairs]
    forward, backward = paired_permutation(x, y), paired_permutation(y, x)
    assert forward.p_value == pytest.approx(backward.p_value)
    if forward.effect is not None:
        assert backward.effect == pytest.approx(-forward.effect)


def test_holm_on_a_textbook_example():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> made monotone: 0.04 -> 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_holm_lies_between_raw_and_bonferroni_and_keeps_the_order(ps: list[float]):
    adjusted = holm(ps)
    m = len(ps)
    for p, a in zip(ps, adjusted, strict=True):
        assert p - 1e-12 <= a <= min(1.0, m * p) + 1e-12
    ranked = sorted(range(m), key=lambda i: ps[i])
    assert all(adjusted[i] <= adjusted[j] + 1e-12 for i, j in itertools.pairwise(ranked))


def test_impact_ratio_and_the_four_fifths_rule():
    # 48 of 80 in one group selected (60%), 12 of 40 in the other (30%): ratio 0.5, under four-fifths
    rates = selection_rates({"a": [True] * 48 + [False] * 32, "b": [True] * 12 + [False] * 28})
    assert rates == pytest.approx({"a": 0.6, "b": 0.3})
    ratios = impact_ratios(rates)
    assert ratios == pytest.approx({"a": 1.0, "b": 0.5})
    assert impact_ratios({"a": 0.5, "b": 0.4}) == pytest.approx({"a": 1.0, "b": 0.8})  # exactly four-fifths
    assert impact_ratios({"a": 0.0, "b": 0.0}) is None  # nobody selected: no favoured group
    assert selection_rates({"a": [], "b": [True]}) == {"b": 1.0}
