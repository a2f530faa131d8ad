"""Spooled runs: results on disk, summaries from running tallies, reports streamed; the same reports as in memory."""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals import ProviderConfig, RunOptions, parse_suite, run_suite_sync
from evals.reports import render_junit, render_markdown, write_json, write_junit
from evals.results import CaseResult, Report
from evals.scoring import ResultTally, summarize
from evals.spool import CaseSummaries, ResultSpool

OUTPUTS = ("ok", "bad", "ok <tag> & \x01 ]]>")
TEMPLATES = {"one.txt": "Say: {{ msg }}", "two.txt": "Tell: {{ msg }}"}


def _suite(answers: list[int], repeats: list[int], required: list[bool], matrix: bool):
    cases = [
        {
            "id": f"case-{i}",
            "vars": {"msg": f"m{i}"},
            "offline_output": OUTPUTS[answer],
            "repeat": repeat,
            "required": req,
            "weight": 1 + i % 3,
            "asserts": [{"type": "contains", "value": "ok"}, {"type": "not-contains", "value": "<tag>"}],
        }
        for i, (answer, repeat, req) in enumerate(zip(answers, repeats, required, strict=False))
    ]
    prompts = {"prompts": ["one.txt", "two.txt"]} if matrix else {"prompt": "one.txt"}
    return parse_suite(
        {
            "version": 1,
            "name": "spooled",
            **prompts,
            "model": {"provider": "offline", "name": "m"},
            "threshold": {"pass_rate": 0.5},
            "cases": cases,
        }
    )


def _run(suite, *, spool: bool) -> Report:
    report = run_suite_sync(
        suite, templates=TEMPLATES, options=RunOptions(spool_results=spool), provider_config=ProviderConfig()
    )
    # what differs between two runs of the same suite: the clock
    report.started_at = report.finished_at = "2026-01-01T00:00:00+00:00"
    report.summary.totals.duration_s = 0.0
    return report


runs = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, len(OUTPUTS) - 1), min_size=n, max_size=n),
        st.lists(st.integers(1, 3), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.booleans(),
    )
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs)
def test_a_spooled_run_writes_the_same_reports_as_one_held_in_memory(tmp_path, run):
    answers, repeats, required, matrix = run
    suite = _suite(answers, repeats, required, matrix)
    held, spooled = _run(suite, spool=False), _run(suite, spool=True)
    assert isinstance(spooled.results, ResultSpool) and isinstance(spooled.cases, CaseSummaries)
    assert isinstance(held.results, list)

    write_json(held, tmp_path / "held.json")
    write_json(spooled, tmp_path / "spooled.json")
    held_json = (tmp_path / "held.json").read_text(encoding="utf-8")
    assert held_json == held.model_dump_json(indent=2)
    spooled_json = (tmp_path / "spooled.json").read_text(encoding="utf-8")
    assert _timeless(spooled_json) == _timeless(held_json)
    assert json.loads(held_json)["summary"]["counts"]["runs"] == sum(repeats) * (2 if matrix else 1)

    write_junit(spooled, tmp_path / "spooled.xml")
    assert _timeless((tmp_path / "spooled.xml").read_text(encoding="utf-8")) == _timeless(render_junit(held))
    ET.fromstring((tmp_path / "spooled.xml").read_bytes())
    assert _timeless(render_markdown(spooled)) == _timeless(render_markdown(held))
    assert [r.model_copy(update={"latency_ms": 0}) for r in spooled.results] == [
        r.model_copy(update={"latency_ms": 0}) for r in held.results
    ]
    assert list(spooled.cases) == held.cases


def _timeless(text: str) -> str:
    """The offline provider's latencies are measured: every number with a fraction becomes N."""
    return re.sub(r"\d+\.\d+(e-?\d+)?", "N", text)


def test_the_spool_reads_results_back_in_plan_order_whatever_order_they_finished_in():
    results = [
        CaseResult(case_id=f"c{i}", repeat_index=i % 2, outcome="passed", output=f"line\nbreak\r{i}") for i in range(7)
    ]
    spool = ResultSpool(planned=9)
    order = list(range(7))
    random.Random(3).shuffle(order)
    for index in order:
        spool.add(index, results[index])
    assert len(spool) == 7 and spool and not ResultSpool(planned=1)
    assert [spool.finished(i) for i in range(9)] == [True] * 7 + [False] * 2
    assert list(spool) == results
    assert list(spool) == results  # read again: nothing was consumed
    spool.close()


def test_results_added_after_a_read_go_to_the_end_and_every_line_reads_back_whole():
    results = [CaseResult(case_id=f"c{i}", repeat_index=0, outcome="passed", output="x" * (i * 997)) for i in range(6)]
    spool = ResultSpool(planned=6)
    for index in (1, 0, 2):  # in plan order from the second one on: reads follow without seeking
        spool.add(index, results[index])
    assert list(spool) == results[:3]
    reading = iter(spool)
    assert next(reading) == results[0]  # a read left half-way, then more results arrive
    for index in (5, 3, 4):
        spool.add(index, results[index])
    other = iter(spool)
    assert [next(other), next(other)] == results[:2]
    assert list(reading) == results[1:]  # resumed after adds and another reader: still where it was
    assert list(other) == results[2:]
    assert list(spool) == results
    spool.close()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["passed", "failed", "error"]),
            st.one_of(st.none(), st.floats(0, 1e4, allow_nan=False)),
            st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
        ),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_a_tally_fed_in_any_order_summarizes_as_the_results_in_plan_order(rows, rnd):
    suite = _suite([0, 0, 0], [1, 1, 1], [True, False, False], matrix=False)
    cases = [case.model_copy(update={"id": cid}) for case, cid in zip(suite.cases, "abc", strict=True)]
    results = [
        CaseResult(case_id=cid, outcome=outcome, latency_ms=latency, cost_usd=cost, output="x")
        for cid, outcome, latency, cost in rows
    ]
    expected, expected_cases = summarize(
        cases, results, planned_runs=len(results), not_run=[], threshold=0.5, provider="p", offline=False
    )
    tally = ResultTally(cases)
    shuffled = list(enumerate(results))
    rnd.shuffle(shuffled)
    for index, result in shuffled:
        tally.add(result, index)
    assert tally.totals(provider_calls=0, duration_s=0.0) == expected.totals
    assert tally.case_summaries(cases) == expected_cases == list(CaseSummaries(cases, tally))
    assert tally.pass_rate(cases) == expected.pass_rate
    assert tally.required_failures(cases, []) == expected.required_failures
