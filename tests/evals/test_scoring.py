"""Case scores and the suite's weighted pass rate obey their arithmetic; errors never pass."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.results import AssertionResult, CaseRef, CaseResult
from evals.scoring import case_outcome, summarize
from evals.suite import Case


def verdict(outcome, score=None, weight=1.0):
    return AssertionResult(
        type="t",
        outcome=outcome,
        score=score if score is not None else float(outcome == "passed"),
        reason="r",
        weight=weight,
    )


def test_weighted_score_and_informational_weight_zero():
    outcome, score = case_outcome([verdict("passed", weight=3), verdict("failed", weight=1)], None)
    assert outcome == "failed" and score == pytest.approx(0.75)
    assert case_outcome([verdict("passed", weight=3), verdict("failed", weight=1)], 0.7) == ("passed", 0.75)
    assert case_outcome([verdict("passed"), verdict("failed", weight=0)], None)[0] == "passed"
    assert case_outcome([verdict("passed"), verdict("error", weight=0)], None)[0] == "error"


runs = st.lists(st.tuples(st.floats(0.1, 5), st.lists(st.booleans(), min_size=1, max_size=4)), min_size=1, max_size=8)


@given(runs, st.floats(0, 1))
def test_pass_rate_is_the_weighted_mean_of_case_pass_rates(spec, threshold):
    cases = [Case(id=f"c{i}", weight=w, repeat=len(outcomes)) for i, (w, outcomes) in enumerate(spec)]
    results = [
        CaseResult(case_id=f"c{i}", repeat_index=r, outcome="passed" if ok else "failed")
        for i, (_, outcomes) in enumerate(spec)
        for r, ok in enumerate(outcomes)
    ]
    summary, per_case = summarize(
        cases, results, planned_runs=len(results), not_run=[], threshold=threshold, provider="offline:x", offline=True
    )
    expected = sum(w * sum(o) / len(o) for w, o in spec) / sum(w for w, _ in spec)
    assert summary.pass_rate == pytest.approx(expected)
    assert 0.0 <= summary.pass_rate <= 1.0
    assert summary.status == ("passed" if summary.pass_rate >= threshold - 1e-9 else "failed")
    assert [c.pass_rate for c in per_case] == pytest.approx([sum(o) / len(o) for _, o in spec])


@given(runs)
def test_any_error_or_unfinished_run_makes_the_status_error(spec):
    cases = [Case(id=f"c{i}", weight=w) for i, (w, _) in enumerate(spec)]
    results = [CaseResult(case_id=c.id, outcome="passed") for c in cases]
    results[-1] = CaseResult(case_id=cases[-1].id, outcome="error", error="boom")
    summary, _ = summarize(
        cases, results, planned_runs=len(cases), not_run=[], threshold=0.0, provider="p", offline=False
    )
    assert summary.status == "error"
    summary, _ = summarize(
        cases,
        results[:-1],
        planned_runs=len(cases),
        not_run=[CaseRef(case_id=cases[-1].id, repeat_index=0)],
        threshold=0.0,
        provider="p",
        offline=False,
    )
    assert summary.status == "error" and summary.counts.not_run == 1
