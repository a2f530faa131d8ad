"""llm-rubric: a model judge via the fake server, malformed verdicts as errors, the labelled offline judge."""

from __future__ import annotations

import pytest

from evals import ProviderConfig, RunOptions, run_suite
from evals.judge import parse_verdict
from tests.evals.conftest import TEMPLATES, FakeResponse, completion, make_suite

RUBRIC = [{"id": "a", "vars": {"msg": "sales"}, "asserts": [{"type": "llm-rubric", "value": "Mentions {{ msg }}"}]}]


def judge_or_echo(verdict_text):
    def answer(body):
        content = body["messages"][-1]["content"]
        if "<rubric>" in content:
            return FakeResponse(body=completion(verdict_text))
        return FakeResponse(body=completion("We will grow sales by 10%."))

    return answer


async def test_model_judge_grades_with_the_rubric_rendered(fake_openai, openai_config):
    fake_openai.answer = judge_or_echo('{"pass": true, "score": 0.9, "reason": "mentions sales"}')
    report = await run_suite(
        make_suite(RUBRIC),
        templates=TEMPLATES,
        options=RunOptions(provider="openai:gpt-4o-mini"),
        provider_config=openai_config,
    )
    verdict = report.results[0].assertions[0]
    assert verdict.outcome == "passed" and verdict.score == 0.9 and "mentions sales" in verdict.reason
    judge_prompt = fake_openai.requests[1]["messages"][0]["content"]
    assert "Mentions sales" in judge_prompt and "grow sales by 10%" in judge_prompt
    assert report.summary.judge_provider == "openai:gpt-4o-mini" and not report.summary.judge_offline


async def test_threshold_above_the_judges_score_fails(fake_openai, openai_config):
    fake_openai.answer = judge_or_echo('{"pass": true, "score": 0.4, "reason": "weak"}')
    suite = make_suite([{**RUBRIC[0], "asserts": [{**RUBRIC[0]["asserts"][0], "threshold": 0.7}]}])
    report = await run_suite(
        suite, templates=TEMPLATES, options=RunOptions(provider="openai:gpt-4o-mini"), provider_config=openai_config
    )
    assert report.results[0].assertions[0].outcome == "failed"
    assert "below threshold" in report.results[0].assertions[0].reason


async def test_malformed_judge_output_is_an_error(fake_openai, openai_config):
    fake_openai.answer = judge_or_echo("Looks good to me!")
    report = await run_suite(
        make_suite(RUBRIC),
        templates=TEMPLATES,
        options=RunOptions(provider="openai:gpt-4o-mini"),
        provider_config=openai_config,
    )
    verdict = report.results[0].assertions[0]
    assert verdict.outcome == "error" and "malformed judge output" in verdict.reason
    assert report.summary.status == "error"


@pytest.mark.parametrize(
    "text",
    [
        '{"pass": "yes", "score": 1, "reason": "r"}',
        '{"pass": true, "score": 3, "reason": "r"}',
        '{"pass": true, "score": 1}',
        "[true]",
    ],
)
def test_parse_verdict_rejects_bad_shapes(text):
    with pytest.raises(ValueError, match="malformed judge output"):
        parse_verdict(text)


async def test_offline_judge_is_deterministic_and_labelled():
    suite = make_suite([{**RUBRIC[0], "offline_output": "Our sales plan mentions growth."}])
    report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    verdict = report.results[0].assertions[0]
    assert "offline judge" in verdict.reason and "not a model's verdict" in verdict.reason
    assert report.summary.judge_offline
    again = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    assert again.results[0].assertions[0] == verdict


async def test_separately_configured_judge_provider(fake_openai):
    config = ProviderConfig(openai_base_url=fake_openai.base_url, openai_api_key="k", judge="openai:judge-model")
    fake_openai.answer = lambda body: FakeResponse(body=completion('{"pass": false, "score": 0, "reason": "no"}'))
    suite = make_suite([{**RUBRIC[0], "offline_output": "offline answer"}])
    report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=config)
    assert [r["model"] for r in fake_openai.requests] == ["judge-model"]
    assert report.summary.offline and not report.summary.judge_offline
    assert report.results[0].assertions[0].outcome == "failed"


async def test_a_judge_no_call_can_reach_stops_the_run_naming_it():
    config = ProviderConfig(
        openai_base_url="http://127.0.0.1:9/v1",
        openai_api_key="k",
        judge="openai:judge-model",
        max_retries=1,
        backoff_initial_s=0.01,
    )
    cases = [{**RUBRIC[0], "id": f"c{i}", "offline_output": "offline answer"} for i in range(6)]
    report = await run_suite(
        make_suite(cases), templates=TEMPLATES, options=RunOptions(concurrency=2), provider_config=config
    )
    assert report.summary.status == "error"
    assert report.summary.error.startswith(
        "provider openai:judge-model unreachable: connection refused to 127.0.0.1:9 (after 2 attempts)"
    )
    assert report.results == [] and report.summary.counts.not_run == 6
