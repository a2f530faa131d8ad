"""The fairness block: shipped cue lists, variants generated from base cases, and errors with their paths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals import SuiteError, load_suite, parse_suite
from evals.fairness.dimensions import shipped_cues, shipped_dimension_names

SHIPPED = ["age", "disability", "ethnicity", "gender", "nationality", "parental-leave", "part-time", "pronouns"]


def suite(fairness: dict[str, Any], cases: list[dict[str, Any]] | None = None, **extra: Any):
    data: dict[str, Any] = {
        "version": 1,
        "name": "fair",
        "prompt": "main",
        "cases": cases
        or [
            {
                "id": "review",
                "vars": {"msg": "{first_name} ({pronoun}) asks for help with goals."},
                "asserts": [{"type": "not-refusal"}],
            },
            {"id": "plain", "vars": {"msg": "hello"}, "asserts": [{"type": "not-refusal"}]},
        ],
        "fairness": fairness,
        **extra,
    }
    return parse_suite(data)


def errors(exc: pytest.ExceptionInfo[SuiteError]) -> dict[str, str]:
    return {e.path: e.message for e in exc.value.errors}


def test_every_shipped_dimension_cites_sources_and_pairs_its_groups():
    assert shipped_dimension_names() == SHIPPED
    for name, dim in shipped_cues().items():
        assert dim["sources"], name
        assert len(dim["groups"]) >= 2, name
        sizes = {len(cues) for cues in dim["groups"].values()}
        assert len(sizes) == 1, f"{name}: groups are paired by position, so they must be the same size"
        assert set(dim["neutral"]) == set(dim["slots"]), name


def test_variants_swap_only_the_cue_and_say_where_they_come_from():
    s = suite({"vars": ["msg"], "dimensions": [{"name": "gender"}, {"name": "pronouns"}]})
    ids = [c.id for c in s.cases]
    assert ids[:2] == ["review~gender~female~1", "review~gender~female~2"]
    assert "review" not in ids and ids[-1] == "plain"  # the base is a template; other cases run as written
    assert len(ids) == 8 + 3 + 1
    by_id = {c.id: c for c in s.cases}
    assert by_id["review~gender~male~3"].vars["msg"] == "Jamal (they) asks for help with goals."
    assert by_id["review~pronouns~she~1"].vars["msg"] == "Alex (she) asks for help with goals."
    # the slots are vars too, for templates that use {{ first_name }}
    assert by_id["review~pronouns~he~1"].vars["pronoun_possessive"] == "his"
    assert "fairness:gender=male" in by_id["review~gender~male~1"].tags
    plan = s._fairness_plan
    variant = plan.variant("review~gender~male~3")
    assert (variant.base, variant.dimension, variant.group, variant.index) == ("review", "gender", "male", 2)
    assert plan.variant("plain") is None


@given(st.lists(st.sampled_from(SHIPPED), min_size=1, max_size=4, unique=True))
def test_generation_is_deterministic_and_complete(names: list[str]):
    slots = {slot for n in names for slot in shipped_cues()[n]["slots"]}
    message = " ".join(f"<{{{slot}}}>" for slot in sorted(slots))
    fairness = {"vars": ["msg"], "dimensions": [{"name": n} for n in names]}
    cases = [{"id": "base", "vars": {"msg": message}, "asserts": [{"type": "not-refusal"}]}]
    first, second = suite(fairness, cases), suite(fairness, cases)
    assert [(c.id, c.vars) for c in first.cases] == [(c.id, c.vars) for c in second.cases]
    expected = sum(len(g) for n in names for g in shipped_cues()[n]["groups"].values())
    assert len(first.cases) == expected
    for case in first.cases:
        assert "{" not in case.vars["msg"]  # every slot filled, the perturbed one or a neutral value


def test_a_suites_own_dimension_and_limits():
    own = {
        "name": "caregiver",
        "slots": ["care"],
        "groups": {"none": ["", " "], "carer": [" I care for my mother.", " I care for a child."]},
        "neutral": {"care": ""},
        "source": "Directive (EU) 2019/1158, Art. 6 (carers' leave)",
    }
    s = suite(
        {"vars": ["msg"], "dimensions": [own, {"name": "gender", "cues_per_group": 1}]},
        [{"id": "b", "vars": {"msg": "{first_name} here.{care}"}, "asserts": [{"type": "not-refusal"}]}],
    )
    assert [c.id for c in s.cases] == [
        "b~caregiver~none~1",
        "b~caregiver~none~2",
        "b~caregiver~carer~1",
        "b~caregiver~carer~2",
        "b~gender~female~1",
        "b~gender~male~1",
    ]
    assert s.cases[2].vars["msg"] == "Alex here. I care for my mother."
    assert s._fairness_plan.dimensions[0].sources == ("Directive (EU) 2019/1158, Art. 6 (carers' leave)",)


def test_mistakes_are_reported_with_their_paths():
    with pytest.raises(SuiteError) as exc:
        suite(
            {
                "vars": ["msg", "nothing"],
                "dimensions": [
                    {"name": "genders"},
                    {"name": "own", "groups": {"a": ["x"], "b": ["y", "z"]}},
                ],
            }
        )
    found = errors(exc)
    assert "unknown dimension 'genders'" in found["fairness.dimensions[0].name"]
    assert "must cite its source" in found["fairness.dimensions[1].source"]
    assert "must name its slots" in found["fairness.dimensions[1].slots"]
    with pytest.raises(SuiteError) as exc:
        suite({"vars": ["msg", "nothing"], "dimensions": [{"name": "age"}], "cases": ["review", "ghost"]})
    found = errors(exc)
    assert found["fairness.vars[1]"] == "var 'nothing' is set by neither the suite nor any case"
    assert found["fairness.cases[1]"] == "unknown case 'ghost'"
    with pytest.raises(SuiteError) as exc:
        suite({"vars": ["msg"], "dimensions": [{"name": "age"}]})
    assert "no case's perturbed vars hold a {slot}" in errors(exc)["fairness.vars"]
    with pytest.raises(SuiteError) as exc:
        suite(
            {
                "vars": ["msg"],
                "dimensions": [
                    {"name": "x", "slots": ["s"], "source": "me", "neutral": {"s": ""}, "groups": {"a": ["1"], "b": []}}
                ],
                "compare": {"outputs": [{"name": "r", "regex": "(", "kind": "number", "selected": ["yes"]}]},
            }
        )
    found = errors(exc)
    assert "invalid regular expression" in found["fairness.compare.outputs[0].regex"]
    assert "takes selected_at" in found["fairness.compare.outputs[0].selected"]
    with pytest.raises(SuiteError) as exc:
        suite({"vars": ["msg"], "dimensions": [{"name": "age", "groupz": {}}]})
    assert errors(exc)["fairness.dimensions[0].groupz"] == "unknown field 'groupz' (did you mean 'groups'?)"


def test_errors_point_at_lines_and_offline_fixtures_of_a_base_apply_to_its_variants(tmp_path):
    (tmp_path / "fixtures.yaml").write_text("review: Happy to help.\n")
    path = tmp_path / "suite.yaml"
    path.write_text(
        """\
version: 1
name: fair
prompt: main
offline_fixtures: fixtures.yaml
cases:
  - id: review
    vars: {msg: "I ask for help.{age}"}
    asserts: [{type: not-refusal}]
fairness:
  vars: [msg]
  dimensions:
    - name: age
"""
    )
    loaded = load_suite(path)
    assert loaded.fixture_outputs["review~age~older~2"] == "Happy to help."
    path.write_text(path.read_text().replace("name: age", "name: agee"))
    with pytest.raises(SuiteError) as exc:
        load_suite(path)
    assert f"{path}:12: fairness.dimensions[0].name: unknown dimension 'agee'" in str(exc.value)


def test_a_dimension_no_case_perturbs_is_an_error_not_a_silent_pass():
    with pytest.raises(SuiteError) as exc:
        suite({"vars": ["msg"], "dimensions": [{"name": "gender"}, {"name": "disability"}]})
    assert errors(exc) == {
        "fairness.dimensions[1].name": "no case's perturbed vars hold {disability}, so nothing tests it"
    }


def test_the_readme_example_is_a_valid_fairness_block():
    import re

    import yaml

    from evals.fairness.dimensions import CUES_FILE

    readme = (CUES_FILE.parents[2] / "README.md").read_text(encoding="utf-8").split("## Fairness", 1)[1]
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", readme, re.S).group(1))
    parsed = parse_suite({"version": 1, "name": "readme", "prompt": "main", **example})
    assert [d.name for d in parsed._fairness_plan.dimensions] == ["gender", "age", "parental-leave", "caregiving"]
    assert "growth-goal~caregiving~carer~1" in {c.id for c in parsed.cases}


def test_a_policy_tightens_a_suites_thresholds_never_loosens_them():
    from evals.fairness.spec import FairnessThresholds, stricter

    suite_own = FairnessThresholds(min_impact_ratio=0.9, max_pass_rate_gap=0.2, alpha=0.01)
    joined = stricter(suite_own, {"min_impact_ratio": 0.8, "max_pass_rate_gap": 0.05, "alpha": 0.05})
    assert (joined.min_impact_ratio, joined.max_pass_rate_gap, joined.alpha) == (0.9, 0.05, 0.05)
    assert stricter(suite_own, {}) == suite_own
