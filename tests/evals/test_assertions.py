"""Every built-in assertion passes and fails with a reason; bad arguments are refused up front."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import evals
from evals.assertions import ArgError, AssertionContext, Verdict, assertion_names, get_assertion
from evals.suite import AssertSpec


def check(kind: str, output: str, value=None, threshold=None, ctx: AssertionContext | None = None) -> Verdict:
    definition = get_assertion(kind)
    assert definition is not None, kind
    spec = AssertSpec(type=kind, value=value, threshold=threshold)
    verdict = definition.check(output, definition.prepare(spec), ctx or AssertionContext())
    if definition.is_async:
        verdict = asyncio.run(verdict)
    return verdict


CASES = [
    # kind, value, threshold, passing output, failing output, words in the failing reason
    ("equals", "yes", None, "yes", "no", "differs"),
    ("equals", {"a": 1}, None, '{"a": 1}', '{"a": 2}', "differs"),
    ("not-equals", "yes", None, "no", "yes", "equals"),
    ("contains", "goal", None, "a goal", "a plan", "does not contain"),
    ("not-contains", "salary", None, "a goal", "your salary", "contains"),
    ("icontains", "Goal", None, "A GOAL", "plan", "does not contain"),
    ("not-icontains", "as an ai", None, "sure", "As an AI I", "contains"),
    ("contains-any", ["%", "number"], None, "10% more", "more", "none of"),
    ("not-contains-any", ["x", "y"], None, "abc", "xyz", "contains"),
    ("contains-all", ["a", "b"], None, "ab", "a", "lacks"),
    ("not-contains-all", ["a", "b"], None, "a", "ab", "all"),
    ("icontains-any", ["GOAL"], None, "goal", "plan", "none of"),
    ("icontains-all", ["A", "B"], None, "ab", "a", "lacks"),
    ("not-icontains-any", ["X"], None, "abc", "xyz", "contains"),
    ("not-icontains-all", ["A", "B"], None, "a", "AB", "all"),
    ("starts-with", "Sure", None, "  Sure, here", "No", "not"),
    ("not-starts-with", "Sorry", None, "Sure", "Sorry, no", "starts with"),
    ("regex", r"\d+%", None, "by 10%", "by ten", "matches nowhere"),
    ("not-regex", r"\bSSN\b", None, "no id", "my SSN", "matches"),
    ("is-json", None, None, '{"a": 1}', "not json", "not valid JSON"),
    ("is-json", {"type": "object", "required": ["a"]}, None, '```json\n{"a": 1}\n```', '{"b": 1}', "schema"),
    ("not-is-json", None, None, "plain", "[1]", "valid JSON"),
    ("json-schema", {"type": "array"}, None, "[1, 2]", '{"a": 1}', "does not match"),
    ("length", {"max": 3, "unit": "words"}, None, "one two", "one two three four", "more than"),
    ("length", {"min": 5}, None, "abcdef", "abc", "fewer than"),
    ("similar", "set a measurable sales goal", 0.8, "Set a measurable sales goal.", "hello", "similarity"),
    ("not-similar", "identical text", 0.8, "completely different", "identical text", "similarity"),
    ("levenshtein", "sitting", None, "kitten", "sitting on a mat", "edit distance 9"),
    ("not-levenshtein", "sitting", 2, "kitten", "sittin", "edit distance 1"),
    ("rouge-n", "Set one measurable goal.", None, "Set one measurable goal!", "Be nice.", "below the threshold"),
    ("not-rouge-n", "Set one goal.", 0.5, "Be nice.", "Set one goal, now.", "at least the threshold"),
    ("refusal", None, None, "I'm sorry, but I can't help with that.", "Here is a goal.", "no refusal"),
    ("not-refusal", None, None, "Here is a goal.", "I cannot assist with this request.", "refuses"),
    ("no-pii", None, None, "Call your manager.", "Mail jane.doe@example.com", "email"),
    ("no-pii", None, None, "Review on 2025-01-15 for 20%.", "Call +44 20 7946 0958", "phone"),
    ("no-pii", None, None, "Ticket 123-456", "SSN 123-45-6789", "national-id"),
    ("no-pii", None, None, "Code GB00", "IBAN GB82 WEST 1234 5698 7654 32", "iban"),
]


@pytest.mark.parametrize(("kind", "value", "threshold", "good", "bad", "why"), CASES)
def test_assertion_passes_and_fails_with_reason(kind, value, threshold, good, bad, why):
    passed = check(kind, good, value, threshold)
    assert passed.passed, passed.reason
    assert passed.reason
    failed = check(kind, bad, value, threshold)
    assert not failed.passed
    assert why.lower() in failed.reason.lower()


def test_every_registered_assertion_is_covered():
    covered = {c[0] for c in CASES} | {"latency", "cost", "llm-rubric"}
    assert set(assertion_names()) <= covered


def test_every_registered_assertion_is_in_the_readme_table():
    readme = (Path(evals.__file__).parent / "README.md").read_text()
    table = readme.split("## Assertions", 1)[1].split("\n\n", 2)[1]
    assert sorted(re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.M)) == sorted(assertion_names())


def test_latency_and_cost_use_the_call_context():
    ctx = AssertionContext(latency_ms=120.0, cost_usd=0.002)
    assert check("latency", "x", threshold=200, ctx=ctx).passed
    slow = check("latency", "x", threshold=100, ctx=ctx)
    assert not slow.passed and "120 ms > 100 ms" in slow.reason
    assert check("cost", "x", threshold=0.01, ctx=ctx).passed
    assert not check("cost", "x", threshold=0.001, ctx=ctx).passed
    with pytest.raises(ValueError, match="price table"):
        check("cost", "x", threshold=1, ctx=AssertionContext(latency_ms=1.0, cost_usd=None))


@pytest.mark.parametrize(
    ("output", "reference", "threshold", "distance", "passed"),
    [
        ("kitten", "sitting", None, 3, True),  # promptfoo's default: at most 5 edits
        ("kitten", "sitting", 2, 3, False),
        ("same", "same", 0, 0, True),
        ("", "abcdef", None, 6, False),
        # counted in UTF-16 code units, as promptfoo counts: an emoji is two, so replacing it is two edits
        ("a😀", "ax", 1, 2, False),
        ("aé", "ax", 1, 1, True),
    ],
)
def test_levenshtein_counts_edits_as_promptfoo_does(output, reference, threshold, distance, passed):
    verdict = check("levenshtein", output, reference, threshold)
    assert verdict.passed is passed and verdict.score == float(passed)
    assert f"edit distance {distance} " in verdict.reason
    assert check("not-levenshtein", output, reference, threshold).passed is not passed


def test_contains_all_score_is_the_share_found():
    assert check("contains-all", "a c", ["a", "b", "c", "d"]).score == 0.5


def test_llm_rubric_without_a_judge_is_an_error_not_a_pass():
    with pytest.raises(ValueError, match="no judge"):
        check("llm-rubric", "output", "be kind")


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        ("regex", "(", "value"),
        ("json-schema", {"type": "nonsense"}, "value"),
        ("json-schema", None, "value"),
        ("contains-any", "a,b", "value"),
        ("contains", "", "value"),
        ("length", {"min": 5, "max": 2}, "value"),
        ("length", {"words": 3}, "value"),
        ("no-pii", ["ssn"], "value"),
        ("latency", None, "threshold"),
        ("refusal", "x", "value"),
        ("levenshtein", None, "value"),
        ("levenshtein", ["a"], "value"),
    ],
)
def test_bad_arguments_are_refused_at_prepare(kind, value, field):
    definition = get_assertion(kind)
    with pytest.raises(ArgError) as info:
        definition.prepare(AssertSpec(type=kind, value=value))
    assert info.value.field == field


def test_a_negative_edit_distance_is_refused():
    with pytest.raises(ArgError) as info:
        get_assertion("levenshtein").prepare(AssertSpec(type="levenshtein", value="x", threshold=-1))
    assert info.value.field == "threshold"
