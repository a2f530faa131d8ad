"""Suites parse into models, and every kind of mistake is a SuiteError with path, case id and line."""

from __future__ import annotations

import json

import pytest
import yaml

from evals import SuiteError, load_suite, parse_suite, suite_json_schema

GOOD = """\
version: 1
name: goal-coach
prompt: coach.txt
defaults:
  asserts:
    - type: not-refusal
cases:
  - id: vague-goal
    vars: {msg: hi}
    asserts:
      - type: icontains
        value: measurable
  - id: second
    asserts:
      - type: containz
        value: x
      - type: regex
        value: "("
      - type: similar
        value: ref
        threshold: 1.5
"""


def write(tmp_path, text, name="suite.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_suite_loads(tmp_path):
    text = GOOD.split("  - id: second")[0]
    suite = load_suite(write(tmp_path, text))
    assert suite.name == "goal-coach"
    assert [c.id for c in suite.cases] == ["vague-goal"]
    assert suite.defaults.asserts[0].type == "not-refusal"


def test_errors_carry_path_case_id_and_line(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    err = info.value
    by_path = {d.path: d for d in err.errors}
    unknown = by_path["cases[1].asserts[0].type"]
    assert unknown.case_id == "second" and unknown.line == 15 and "containz" in unknown.message
    assert by_path["cases[1].asserts[1].value"].line == 18
    assert "out of range" in by_path["cases[1].asserts[2].threshold"].message
    assert by_path["cases[1].asserts[2].threshold"].line == 21
    text = str(err)
    assert f"{path}:15: cases[id=second].asserts[0].type: unknown assertion 'containz'" in text


def test_duplicate_ids_and_unknown_fields(tmp_path):
    text = """\
version: 1
name: s
prompt: p
cases:
  - id: a
    asserts: [{type: contains, value: x}]
  - id: a
    assert: [{type: contains, value: x}]
"""
    with pytest.raises(SuiteError) as info:
        load_suite(write(tmp_path, text))
    messages = {(d.path, d.line): d.message for d in info.value.errors}
    assert messages[("cases[1].assert", 8)] == "unknown field 'assert' (did you mean 'asserts'?)"
    with pytest.raises(SuiteError) as info:
        load_suite(write(tmp_path, text.replace("assert:", "asserts:")))
    assert "duplicate case id 'a'" in str(info.value)
    assert info.value.errors[0].line == 7


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"version": 2}, "unsupported suite format version"),
        ({"name": "Bad Name"}, "name"),
        ({"model": {"provider": "anthropic"}}, "unknown provider 'anthropic'"),
        ({"threshold": {"pass_rate": 1.2}}, "threshold.pass_rate"),
        ({"cases": []}, "cases"),
    ],
)
def test_top_level_problems(patch, expected):
    data = {"version": 1, "name": "s", "prompt": "p", "cases": [{"id": "a", "asserts": [{"type": "is-json"}]}]}
    data.update(patch)
    with pytest.raises(SuiteError) as info:
        parse_suite(data, source="inline.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("inline.yaml")


@pytest.mark.parametrize(
    ("patch", "path", "hint"),
    [
        # a key of the level below is named with its path; otherwise the closest field of the key's own level
        ({"temperature": 0.2}, "temperature", "(did you mean 'model.temperature'?)"),
        ({"provider": "openai:gpt-4o-mini"}, "provider", "(did you mean 'model.provider'?)"),
        ({"model": {"provider": "offline", "temprature": 0.2}}, "model.temprature", "(did you mean 'temperature'?)"),
        ({"defaults": {"assert": []}}, "defaults.assert", "(did you mean 'asserts'?)"),
        (
            {"cases": [{"id": "a", "asserts": [{"type": "contains", "value": "x", "wieght": 2}]}]},
            "cases[0].asserts[0].wieght",
            "(did you mean 'weight'?)",
        ),
        ({"promptz": "p"}, "promptz", "(did you mean 'prompt'?)"),
    ],
)
def test_an_unknown_field_is_matched_against_the_fields_where_it_is(patch, path, hint):
    doc = {"version": 1, "name": "s", "prompt": "p", "cases": [{"id": "a", "asserts": [{"type": "equals"}]}]}
    with pytest.raises(SuiteError) as info:
        parse_suite({**doc, **patch})
    [detail] = [d for d in info.value.errors if d.path == path]
    assert detail.message.startswith("unknown field ") and detail.message.endswith(hint), detail.message


def test_bad_json_schema_and_judge_provider_are_suite_errors():
    data = {
        "version": 1,
        "name": "s",
        "prompt": "p",
        "cases": [
            {
                "id": "a",
                "asserts": [
                    {"type": "json-schema", "value": {"type": 12}},
                    {"type": "llm-rubric", "value": "kind", "provider": "nope:x"},
                    {"type": "contains", "value": "x", "threshold": 0.5},
                ],
            }
        ],
    }
    with pytest.raises(SuiteError) as info:
        parse_suite(data)
    paths = {d.path: d.message for d in info.value.errors}
    assert "invalid JSON Schema" in paths["cases[0].asserts[0].value"]
    assert "unknown provider 'nope'" in paths["cases[0].asserts[1].provider"]
    assert "takes no threshold" in paths["cases[0].asserts[2].threshold"]


def test_invalid_yaml_reports_its_line(tmp_path):
    with pytest.raises(SuiteError) as info:
        load_suite(write(tmp_path, "version: 1\nname: [unclosed\n"))
    assert info.value.errors[0].line is not None
    assert "invalid YAML" in str(info.value)


def test_json_suite_and_offline_fixtures(tmp_path):
    (tmp_path / "fixtures.yaml").write_text("a: scripted answer\n")
    data = {
        "version": 1,
        "name": "s",
        "prompt": "p",
        "offline_fixtures": "fixtures.yaml",
        "cases": [{"id": "a", "asserts": [{"type": "contains", "value": "scripted"}]}],
    }
    suite = load_suite(write(tmp_path, json.dumps(data), "suite.json"))
    assert suite.fixture_outputs == {"a": "scripted answer"}
    (tmp_path / "fixtures.yaml").write_text("zzz: answer\n")
    with pytest.raises(SuiteError, match="unknown cases: zzz"):
        load_suite(tmp_path / "suite.json")


def test_schema_enumerates_assertion_types():
    schema = suite_json_schema()
    assert "contains" in schema["$defs"]["AssertSpec"]["properties"]["type"]["enum"]
    assert schema["properties"]["version"]["description"]


def test_shape_errors_and_assertion_errors_come_in_one_list():
    from evals import SuiteError, parse_suite

    data = {
        "version": 1,
        "name": "one-pass",
        "prompt": "p",
        "model": {"provider": "nosuch"},
        "cases": [
            {"id": "a", "asserts": [{"type": "containz", "value": "x"}], "varz": {}},
            {"id": "a", "asserts": [{"type": "regex", "value": "("}]},
        ],
    }
    with pytest.raises(SuiteError) as caught:
        parse_suite(data)
    paths = [(e.path, e.message.split(" (")[0]) for e in caught.value.errors]
    assert ("cases[0].varz", "unknown field 'varz'") in paths
    assert any(path == "cases[0].asserts[0].type" and "unknown assertion 'containz'" in m for path, m in paths)
    assert any(path == "cases[1].asserts[0].value" for path, _ in paths)
    assert any(path == "cases[1].id" and "duplicate case id" in m for path, m in paths)
    assert any(path == "model.provider" and "nosuch" in m for path, m in paths)


def test_a_limit_given_twice_with_different_numbers_is_an_error():
    from evals import SuiteError
    from tests.evals.conftest import make_suite

    with pytest.raises(SuiteError, match="takes its limit once"):
        make_suite([{"id": "c", "vars": {"msg": "x"}, "asserts": [{"type": "latency", "threshold": 5, "value": 3}]}])


# -- big suites: cases validated in chunks, equal assertions shared --------------------------------


def _big_document(n: int, bad: int | None = None) -> dict:
    cases = [
        {
            "id": f"case-{i}",
            "vars": {"msg": f"m{i}"},
            "asserts": [{"type": "contains", "value": f"case-{i}"}, {"type": "not-icontains", "value": "as an ai"}],
        }
        for i in range(n)
    ]
    if bad is not None:
        cases[bad]["asserts"][0] = {"type": "contains", "valeu": "typo"}
        cases[bad + 1]["weight"] = -1
    return {"version": 1, "name": "big", "prompt": "main", "model": {"provider": "offline"}, "cases": cases}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_big_suite_loads_as_it_parses_with_equal_assertions_shared(tmp_path, suffix):
    document = _big_document(2500)
    path = tmp_path / f"suite{suffix}"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML too
    # held in memory (a YAML suite this big is spooled by default: see the spooled tests below)
    loaded = load_suite(path, spool_cases_above=10_000)
    assert loaded == parse_suite(document)
    banned = {id(case.asserts[1]) for case in loaded.cases}
    assert len(banned) == 1 and len({id(case.asserts[0]) for case in loaded.cases}) == 2500
    assert loaded.cases[7].asserts[0].value == "case-7"
    assert loaded.cases[0].model_dump(exclude_unset=True) == document["cases"][0]


def test_a_big_suite_with_problems_in_a_later_chunk_reports_them_as_the_whole_document_does(tmp_path):
    document = _big_document(2500, bad=2100)
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(SuiteError) as loaded:
        load_suite(path)
    with pytest.raises(SuiteError) as parsed:
        parse_suite(document, source=str(path), text=path.read_text(encoding="utf-8"))
    assert [(d.path, d.case_id, d.message, d.line) for d in loaded.value.errors] == [
        (d.path, d.case_id, d.message, d.line) for d in parsed.value.errors
    ]
    assert {d.path for d in loaded.value.errors} >= {"cases[2100].asserts[0].valeu", "cases[2101].weight"}
    assert all(d.line for d in loaded.value.errors)
