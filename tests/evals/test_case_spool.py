"""Big YAML suites streamed: cases checked as they are read, spooled to disk, and read again as a run takes them."""

from __future__ import annotations

import gc
import io
import json
import re

import pytest
import yaml

from evals import Case, ProviderConfig, RunOptions, SuiteError, load_suite, parse_suite, run_suite_sync
from evals.case_spool import SpooledCases, case_facts
from evals.reports import render_junit, write_json
from evals.yaml_stream import StreamUnusual, load_yaml, stream_cases

TEMPLATES = {"one.txt": "Say: {{ msg }} to {{ who }}", "two.txt": "Tell: {{ msg }}"}


def _case(i: int) -> dict:
    case: dict = {
        "id": f"case-{i:05d}",
        "vars": {"msg": f"m{i}"},
        "asserts": [{"type": "contains", "value": f"m{i}"}, {"type": "not-icontains", "value": "as an ai"}],
    }
    # a mix of what a case may carry, so reading it back has something to get wrong
    if i % 7 == 0:
        case["repeat"] = 2
    if i % 5 == 0:
        case["tags"] = ["fives", f"t{i % 3}"]
    if i % 11 == 0:
        case["required"] = True
        case["weight"] = 2.5
    if i % 13 == 0:
        case["offline_output"] = "scripted answer"
    if i % 17 == 0:
        case["asserts"].append({"type": "regex", "value": r"m\d+", "weight": 0})
    return case


def _document(n: int, **extra: object) -> dict:
    return {
        "version": 1,
        "name": "big",
        "prompt": "one.txt",
        "model": {"provider": "offline", "name": "m"},
        "vars": {"who": "you"},
        "threshold": {"pass_rate": 0.5},
        **extra,
        "cases": [_case(i) for i in range(n)],
    }


def _write(tmp_path, document: dict, name: str = "suite.yaml"):
    path = tmp_path / name
    path.write_text(yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, width=1000), encoding="utf-8")
    return path


def _run(suite, **options: object):
    report = run_suite_sync(
        suite,
        templates=TEMPLATES,
        options=RunOptions(**options),  # type: ignore[arg-type]
        provider_config=ProviderConfig(),
    )
    report.started_at = report.finished_at = "2026-01-01T00:00:00+00:00"
    report.summary.totals.duration_s = 0.0
    return report


_CLOCK = {"latency_ms", "latency_ms_mean", "latency_ms_p95", "duration_s", "started_at", "finished_at"}


def _without_clock(document: object) -> object:
    """A report's JSON without what the clock sets (the offline provider's latency too)."""
    if isinstance(document, dict):
        return {k: _without_clock(v) for k, v in document.items() if k not in _CLOCK}
    if isinstance(document, list):
        return [_without_clock(v) for v in document]
    return document


def _live_cases() -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is Case)


def test_a_20000_case_run_never_holds_every_case(tmp_path):
    path = _write(tmp_path, _document(20_000))
    suite = load_suite(path)
    assert isinstance(suite.cases, SpooledCases) and len(suite.cases) == 20_000
    after_load = _live_cases()
    assert after_load < 10, "the loader keeps no Case objects of a spooled suite"
    seen: list[int] = []

    def count(batch: list) -> None:
        seen.append(_live_cases())

    # how many Case objects exist while the run goes, sampled at each batch of results
    report = run_suite_sync(
        suite,
        templates=TEMPLATES,
        options=RunOptions(concurrency=50, spool_results=True, batch_size=2_000, batch_interval_s=60),
        provider_config=ProviderConfig(),
        on_results=count,
    )
    executions = sum(2 if i % 7 == 0 else 1 for i in range(20_000))
    assert report.summary.counts.runs == executions and len(report.results) == executions
    assert len(seen) >= 5
    # the cases in flight (50 workers), not the suite's 20,000
    assert max(seen) < 500, seen
    assert report.summary.counts.cases == 20_000 and len(report.cases) == 20_000


def test_a_spooled_suite_runs_as_the_same_suite_held_in_memory(tmp_path):
    document = _document(400, defaults={"asserts": [{"type": "not-refusal"}]}, prompts=["one.txt", "two.txt"])
    path = _write(tmp_path, document)
    spooled = load_suite(path, spool_cases_above=50)
    held = load_suite(path, spool_cases_above=10_000)
    assert isinstance(spooled.cases, SpooledCases) and isinstance(held.cases, list)
    assert spooled == held
    assert spooled.cases[-1] == held.cases[-1] and spooled.cases[3:6] == held.cases[3:6]
    assert list(case_facts(spooled.cases)) == [(c.id, c.weight, c.required, c.repeat, c.tags) for c in held.cases]
    for options in ({}, {"repeat": 2}, {"providers": ("offline", "offline:other")}):
        a, b = _run(spooled, **options), _run(held, **options)
        assert _without_clock(a.model_dump(mode="json")) == _without_clock(b.model_dump(mode="json"))
    # results spooled too, as `steward eval run` runs: the same reports
    report = _run(spooled, spool_results=True)
    assert report.summary.status == "failed"  # the cases without a scripted answer fail `contains`
    write_json(report, tmp_path / "spooled.json")
    write_json(_run(held, spool_results=True), tmp_path / "held.json")
    spooled_json, held_json = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("spooled", "held"))
    assert _without_clock(spooled_json) == _without_clock(held_json)
    assert len(spooled_json["results"]) == 2 * sum(2 if i % 7 == 0 else 1 for i in range(400))
    junit = re.sub(r'time="[^"]*"', "", render_junit(report))
    assert junit == re.sub(r'time="[^"]*"', "", render_junit(_run(held, spool_results=True)))


def test_a_chunk_of_a_spooled_suite_runs_only_its_cases(tmp_path):
    path = _write(tmp_path, _document(300))
    suite = load_suite(path, spool_cases_above=100)
    wanted = ["case-00290", "case-00007", "case-00150"]
    report = run_suite_sync(
        suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig(), case_ids=wanted
    )
    assert [r.case_id for r in report.results] == ["case-00007", "case-00007", "case-00150", "case-00290"]
    from evals import EvalConfigError

    with pytest.raises(EvalConfigError, match="unknown case ids: nope"):
        run_suite_sync(
            suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig(), case_ids=["nope"]
        )


def test_a_spooled_suite_with_problems_reports_every_one_with_its_line(tmp_path):
    document = _document(3_000)
    document["cases"][5]["asserts"][0] = {"type": "containz", "value": "x"}
    document["cases"][2_600]["weight"] = -1
    document["cases"][2_999]["id"] = "case-00001"
    path = _write(tmp_path, document)
    with pytest.raises(SuiteError) as loaded:
        load_suite(path, spool_cases_above=100)
    with pytest.raises(SuiteError) as parsed:
        parse_suite(document, source=str(path), text=path.read_text(encoding="utf-8"))
    found = [(d.path, d.case_id, d.message, d.line) for d in loaded.value.errors]
    assert found == [(d.path, d.case_id, d.message, d.line) for d in parsed.value.errors]
    assert {d.path for d in loaded.value.errors} == {
        "cases[5].asserts[0].type",
        "cases[2600].weight",
        "cases[2999].id",
    }
    lines = path.read_text(encoding="utf-8").splitlines()
    at = {d.path: lines[d.line - 1].strip() for d in loaded.value.errors if d.line is not None}
    assert at == {
        "cases[5].asserts[0].type": "- type: containz",
        "cases[2600].weight": "weight: -1",
        "cases[2999].id": "- id: case-00001",
    }


def test_cases_may_rely_on_default_asserts_given_after_them(tmp_path):
    document = _document(500)
    for case in document["cases"]:
        case["asserts"] = []
    path = _write(tmp_path, document)
    with pytest.raises(SuiteError) as problems:
        load_suite(path, spool_cases_above=100)
    assert len(problems.value.errors) == 500
    assert all(d.message == "case has no assertions, so it could never fail" and d.line for d in problems.value.errors)
    document["defaults"] = {"asserts": [{"type": "not-refusal"}]}  # written after `cases`
    suite = load_suite(_write(tmp_path, document), spool_cases_above=100)
    assert isinstance(suite.cases, SpooledCases) and suite.cases[499].asserts == []


def test_offline_fixtures_of_a_spooled_suite_name_its_cases(tmp_path):
    (tmp_path / "fixtures.yaml").write_text("case-00002: from the fixtures file\n", encoding="utf-8")
    path = _write(tmp_path, _document(300, offline_fixtures="fixtures.yaml"))
    suite = load_suite(path, spool_cases_above=100)
    assert isinstance(suite.cases, SpooledCases)
    report = run_suite_sync(
        suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig(), case_ids=["case-00002"]
    )
    assert report.results[0].output == "from the fixtures file"
    (tmp_path / "fixtures.yaml").write_text("nobody: x\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="name unknown cases: nobody"):
        load_suite(path, spool_cases_above=100)


def test_json_fairness_and_unusual_yaml_are_read_whole(tmp_path):
    document = _document(300)
    json_path = tmp_path / "suite.json"
    json_path.write_text(json.dumps(document), encoding="utf-8")
    assert isinstance(load_suite(json_path, spool_cases_above=10).cases, list)
    # fairness replaces base cases by their variants: such a suite is read whole
    fair = json.loads(json.dumps(document))
    fair["cases"][1]["vars"]["msg"] = "{first_name} ({pronoun}) asks for help with goals."
    fair["fairness"] = {"vars": ["msg"], "dimensions": [{"name": "gender"}, {"name": "pronouns"}]}
    fair_suite = load_suite(_write(tmp_path, fair, "fair.yaml"), spool_cases_above=10)
    assert isinstance(fair_suite.cases, list) and len(fair_suite.cases) > 300
    # a tag the streaming reader does not know: PyYAML reads the document and reports it, with its line
    text = _write(tmp_path, document).read_text(encoding="utf-8").replace("m7\n", "!custom m7\n", 1)
    unusual = tmp_path / "unusual.yaml"
    unusual.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteError, match="invalid YAML") as error:
        load_suite(unusual, spool_cases_above=10)
    assert error.value.errors[0].line is not None


def test_stream_cases_hands_each_case_over_and_keeps_none():
    text = (
        "version: 1\n"
        "cases:\n"
        "  - &first {id: a, vars: {x: 1}}\n"
        "  - id: b\n"
        "    vars: {<<: {x: 2, y: 3}}\n"
        "  - *first\n"
        "name: after\n"
    )
    got: list[object] = []
    rest = stream_cases(io.StringIO(text), got.append)
    assert rest == {"version": 1, "cases": [], "name": "after"}
    assert got == [{"id": "a", "vars": {"x": 1}}, {"id": "b", "vars": {"x": 2, "y": 3}}, {"id": "a", "vars": {"x": 1}}]
    assert load_yaml(text)["cases"] == got  # type: ignore[index]
    with pytest.raises(StreamUnusual):
        stream_cases(io.StringIO("cases: [{id: a}]\ncases: [{id: b}]\n"), got.append)
    with pytest.raises(StreamUnusual):
        stream_cases(io.StringIO("cases: [!custom {id: a}]\n"), got.append)
