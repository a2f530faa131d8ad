"""Checking a suite as a run would use it: its well-formed parts, when it has problems."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from evals.suite_check import render_problems, well_formed_part

GOOD_CASE = {"id": "ok", "vars": {"name": "Ann"}, "asserts": [{"type": "contains", "value": "x"}]}


def doc(*cases, **top):
    return {"version": 1, "name": "s", "prompt": "p", "cases": list(cases), **top}


def test_unknown_keys_bad_assertions_and_fields_a_render_does_not_read_are_set_aside():
    data = doc(
        {"id": "a", "vars": {"name": "Ann"}, "assert": [{"type": "contains", "value": "x"}]},
        {"id": "b", "vars": {"nmae": "Bob"}, "asserts": [{"type": "contains", "value": "x", "wieght": 1}]},
        {"id": "bad id", "vars": {"name": "Cy"}, "asserts": [{"type": "contains", "value": "x"}]},
        GOOD_CASE,
        provider="openai:gpt-4o-mini",
        model={"temprature": 0.2},
        threshold={"pass_rate": 7},
        name="Not A Name",
    )
    before = copy.deepcopy(data)
    part = well_formed_part(data)
    assert part is not None
    assert data == before  # the caller's document is left as it was
    assert [c.id for c in part.suite.cases] == ["a", "b", "ok"] and part.case_index == [0, 1, 3]
    problems = render_problems(part.suite, {"p": "Hello {{ name }}"}, case_index=part.case_index)
    assert [(p.path, p.case_id) for p in problems] == [("cases[1].vars", "b")]
    assert "'name' is undefined (did you mean 'nmae'?)" in problems[0].message


def test_nothing_is_rendered_when_what_a_render_reads_is_malformed():
    assert well_formed_part(doc(GOOD_CASE, vars=["not", "a", "mapping"])) is None
    assert well_formed_part(doc(GOOD_CASE, messages="not a list")) is None
    assert well_formed_part(doc(GOOD_CASE, version=2)) is None
    assert well_formed_part(doc({"id": "bad id", "asserts": []})) is None  # no case left
    assert well_formed_part(["not", "a", "suite"]) is None


_BREAKAGES = {
    "unknown key": lambda case: {**case, "asert": []},
    "bad assertion": lambda case: {**case, "asserts": [*case["asserts"], {"type": 3}]},
    "bad id": lambda case: {**case, "id": "has space"},
    "vars not a mapping": lambda case: {**case, "vars": "x"},
    "bad weight": lambda case: {**case, "weight": -1, "repeat": 0},
}


@given(st.lists(st.sampled_from([None, *_BREAKAGES]), min_size=1, max_size=8))
def test_every_case_that_a_render_can_use_is_kept_at_its_place(breakages):
    cases = []
    for i, breakage in enumerate(breakages):
        case = {"id": f"c{i}", "vars": {"name": str(i)}, "asserts": [{"type": "contains", "value": "x"}]}
        cases.append(_BREAKAGES[breakage](case) if breakage else case)
    part = well_formed_part(doc(*cases))
    usable = [i for i, b in enumerate(breakages) if b in (None, "unknown key", "bad assertion", "bad weight")]
    if not usable:
        assert part is None
        return
    assert part is not None and part.case_index == usable
    assert [c.id for c in part.suite.cases] == [f"c{i}" for i in usable]
    assert [c.vars for c in part.suite.cases] == [{"name": str(i)} for i in usable]


def test_rendering_stops_at_the_budget_with_the_problems_found_so_far():
    from evals import parse_suite

    bad = {"id": "bad", "vars": {"nam": "Ann"}, "asserts": [{"type": "contains", "value": "x"}]}
    suite = parse_suite(doc(bad, {**bad, "id": "bad-2"}))
    assert [p.case_id for p in render_problems(suite, {"p": "Hello {{ name }}"})] == ["bad", "bad-2"]
    assert render_problems(suite, {"p": "Hello {{ name }}"}, budget_s=0.0) == []
