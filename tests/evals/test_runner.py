"""The runner end to end: offline and through the real openai SDK against the local fake server."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from evals import MemoryResponseCache, ProviderConfig, RunOptions, run_suite
from evals.run_errors import EvalConfigError
from tests.evals.conftest import TEMPLATES, FakeResponse, completion, make_suite

OPENAI = RunOptions(provider="openai:gpt-4o-mini", concurrency=4)


def cases(n, **extra):
    return [
        {"id": f"c{i}", "vars": {"msg": f"hello {i}"}, "asserts": [{"type": "contains", "value": "hello"}], **extra}
        for i in range(n)
    ]


async def test_offline_run_is_labelled_and_scripted():
    suite = make_suite(
        [
            {
                "id": "scripted",
                "asserts": [{"type": "contains", "value": "measurable"}],
                "offline_output": "A measurable goal.",
                "vars": {"msg": "x"},
            },
            {"id": "derived", "asserts": [{"type": "contains", "value": "hello"}], "vars": {"msg": "hello"}},
        ]
    )
    report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    assert report.summary.status == "passed"
    assert report.summary.offline and all(r.offline for r in report.results)
    assert report.results[0].output == "A measurable goal."
    again = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    assert again.results[1].output == report.results[1].output  # deterministic


async def test_openai_path_records_usage_cost_and_messages(fake_openai, openai_config):
    suite = make_suite(cases(3), system="You coach {{ company }}.", vars={"company": "Acme"})
    report = await run_suite(suite, templates=TEMPLATES, options=OPENAI, provider_config=openai_config)
    assert report.summary.status == "passed", report.summary
    assert not report.summary.offline
    first = report.results[0]
    assert first.messages[0].content == "You coach Acme." and first.messages[1].content == "Say: hello 0"
    assert first.prompt_tokens == 11 and first.completion_tokens == 7
    assert first.cost_usd == pytest.approx((11 * 0.15 + 7 * 0.60) / 1e6)
    assert fake_openai.requests[0]["model"] == "gpt-4o-mini"
    assert report.summary.totals.provider_calls == 3


async def test_a_provider_that_cannot_start_made_no_calls(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report = await run_suite(
        make_suite(cases(3)), templates=TEMPLATES, options=OPENAI, provider_config=ProviderConfig()
    )
    assert report.summary.status == "error" and "STEWARD_OPENAI_API_KEY or OPENAI_API_KEY" in report.summary.error
    assert report.summary.totals.provider_calls == 0


async def test_cache_answers_an_unchanged_rerun_with_zero_calls(fake_openai, openai_config):
    suite = make_suite(cases(5))
    cache = MemoryResponseCache()
    first = await run_suite(suite, templates=TEMPLATES, options=OPENAI, provider_config=openai_config, cache=cache)
    assert len(fake_openai.requests) == 5 and first.summary.counts.cached == 0
    second = await run_suite(suite, templates=TEMPLATES, options=OPENAI, provider_config=openai_config, cache=cache)
    assert len(fake_openai.requests) == 5, "a cached re-run must not call the provider"
    assert second.summary.counts.cached == 5 and second.summary.totals.provider_calls == 0
    assert [r.output for r in second.results] == [r.output for r in first.results]
    no_cache = RunOptions(provider="openai:gpt-4o-mini", use_cache=False)
    await run_suite(suite, templates=TEMPLATES, options=no_cache, provider_config=openai_config, cache=cache)
    assert len(fake_openai.requests) == 10


async def test_429_with_retry_after_is_retried_after_waiting(fake_openai, openai_config):
    fake_openai.push(FakeResponse(429, {"error": {"message": "slow down"}}, {"retry-after": "0.3"}))
    started = time.perf_counter()
    report = await run_suite(make_suite(), templates=TEMPLATES, options=OPENAI, provider_config=openai_config)
    assert time.perf_counter() - started >= 0.3
    assert report.summary.status == "passed"
    assert report.results[0].attempts == 2 and len(fake_openai.requests) == 2


async def test_persistent_500_is_an_error_never_a_pass(fake_openai, openai_config):
    fake_openai.answer = lambda body: FakeResponse(500, {"error": {"message": "boom"}})
    report = await run_suite(make_suite(), templates=TEMPLATES, options=OPENAI, provider_config=openai_config)
    assert report.summary.status == "error"
    result = report.results[0]
    assert result.outcome == "error" and "HTTP 500" in result.error and "after 3 attempts" in result.error
    assert len(fake_openai.requests) == 3


async def test_timeouts_are_retried_then_reported(fake_openai):
    config = ProviderConfig(
        openai_base_url=fake_openai.base_url, openai_api_key="k", timeout_s=0.2, max_retries=1, backoff_initial_s=0.01
    )
    fake_openai.push(FakeResponse(body=completion("late hello"), delay=1.0))
    report = await run_suite(make_suite(), templates=TEMPLATES, options=OPENAI, provider_config=config)
    assert report.summary.status == "passed" and report.results[0].attempts == 2
    fake_openai.answer = lambda body: FakeResponse(body=completion("late"), delay=1.0)
    report = await run_suite(make_suite(), templates=TEMPLATES, options=OPENAI, provider_config=config)
    assert report.results[0].outcome == "error" and "timed out" in report.results[0].error


async def test_malformed_body_is_an_error(fake_openai, openai_config):
    fake_openai.push(FakeResponse(200, "{not json"))
    fake_openai.push(FakeResponse(200, {"choices": []}))
    report = await run_suite(
        make_suite(cases(2)),
        templates=TEMPLATES,
        options=RunOptions(provider="openai:gpt-4o-mini", concurrency=1),
        provider_config=openai_config,
    )
    assert [r.outcome for r in report.results] == ["error", "error"]
    assert all("malformed response body" in r.error for r in report.results)
    assert report.summary.status == "error"


async def test_missing_api_key_stops_the_run_with_one_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = ProviderConfig(openai_base_url="http://127.0.0.1:9/v1")
    report = await run_suite(make_suite(cases(3)), templates=TEMPLATES, options=OPENAI, provider_config=config)
    assert report.summary.status == "error"
    assert "API key" in report.summary.error
    assert "STEWARD_OPENAI_API_KEY" in report.summary.error and "OPENAI_API_KEY" in report.summary.error
    assert report.summary.counts.not_run == 3


async def test_a_provider_no_call_can_reach_stops_the_run_as_refused_not_as_a_timeout():
    config = ProviderConfig(
        openai_base_url="http://127.0.0.1:9/v1", openai_api_key="k", max_retries=1, backoff_initial_s=0.01
    )
    options = RunOptions(provider="openai:gpt-4o-mini", concurrency=2)
    report = await run_suite(make_suite(cases(40)), templates=TEMPLATES, options=options, provider_config=config)
    assert report.summary.status == "error"
    assert report.summary.error == (
        "provider openai:gpt-4o-mini unreachable: connection refused to 127.0.0.1:9 (after 2 attempts); "
        "no call has reached it, so the run stopped"
    )
    assert "timed out" not in report.summary.error
    # the case that found out and the one in flight beside it did not finish: nothing is graded, all is listed
    assert report.results == [] and report.summary.counts.not_run == 40
    # refused attempts are not provider calls; one cut short in flight beside them may have connected, so it counts
    assert report.summary.totals.provider_calls <= 1


async def test_a_provider_that_goes_away_mid_run_fails_its_cases_without_stopping_the_run():
    """Reached once, the server is there: later refused connections are each case's error, not the run's."""
    answered = 0
    gone = asyncio.Event()

    async def chat(request: web.Request) -> web.Response:
        nonlocal answered
        answered += 1
        if answered == 2:
            gone.set()
        return web.json_response(completion("hello"))

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    server = web.AppRunner(app)
    await server.setup()
    site = web.TCPSite(server, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def shut_down() -> None:
        await gone.wait()
        await server.cleanup()  # from now on every connection to the port is refused

    stopper = asyncio.create_task(shut_down())
    config = ProviderConfig(
        openai_base_url=f"http://127.0.0.1:{port}/v1", openai_api_key="k", max_retries=1, backoff_initial_s=0.01
    )
    options = RunOptions(provider="openai:gpt-4o-mini", concurrency=1)
    try:
        report = await run_suite(make_suite(cases(5)), templates=TEMPLATES, options=options, provider_config=config)
    finally:
        await stopper
    assert [r.outcome for r in report.results] == ["passed", "passed", "error", "error", "error"]
    assert report.summary.counts.not_run == 0 and report.summary.error is None
    assert any("connection refused" in (r.error or "") for r in report.results[2:])


async def test_cancellation_leaves_a_consistent_partial_report(fake_openai, openai_config):
    fake_openai.answer = lambda body: FakeResponse(
        body=completion("hello"), delay=0.05 if body["messages"][-1]["content"].endswith(" 0") else 5.0
    )
    cancel = asyncio.Event()
    seen = []

    async def on_results(batch):
        seen.extend(batch)
        cancel.set()

    report = await asyncio.wait_for(
        run_suite(
            make_suite(cases(6)),
            templates=TEMPLATES,
            options=RunOptions(provider="openai:gpt-4o-mini", concurrency=3, batch_size=1),
            provider_config=openai_config,
            on_results=on_results,
            cancel=cancel,
        ),
        timeout=4,
    )
    assert report.summary.status == "error" and report.summary.cancelled
    assert [r.case_id for r in report.results] == ["c0"] == [r.case_id for r in seen]
    assert {ref.case_id for ref in report.not_run} == {f"c{i}" for i in range(1, 6)}
    assert report.summary.counts.not_run == 5


async def test_repeat_pass_rate_subset_and_batches():
    suite = make_suite(
        [
            {"id": "flaky", "vars": {"msg": "x"}, "asserts": [{"type": "contains", "value": "hello"}], "repeat": 2},
            {"id": "ok", "vars": {"msg": "hello"}, "asserts": [{"type": "contains", "value": "hello"}]},
            {"id": "skipped", "vars": {"msg": "hello"}, "asserts": [{"type": "contains", "value": "hello"}]},
        ]
    )
    batches = []
    report = await run_suite(
        suite,
        templates=TEMPLATES,
        options=RunOptions(repeat=3, batch_size=2),
        provider_config=ProviderConfig(),
        case_ids=["flaky", "ok"],
        on_results=batches.append,
    )
    assert [(r.case_id, r.repeat_index) for r in report.results] == [
        ("flaky", 0),
        ("flaky", 1),
        ("flaky", 2),
        ("ok", 0),
        ("ok", 1),
        ("ok", 2),
    ]
    assert sum(len(b) for b in batches) == 6 and max(len(b) for b in batches) <= 2
    by_id = {c.case_id: c for c in report.cases}
    assert by_id["ok"].pass_rate == 1.0 and by_id["flaky"].pass_rate == 0.0
    assert report.summary.pass_rate == pytest.approx(0.5)
    assert report.summary.status == "failed"


async def test_missing_variable_is_a_case_error():
    suite = make_suite([{"id": "a", "vars": {}, "asserts": [{"type": "contains", "value": "x"}]}])
    report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    assert report.results[0].outcome == "error" and "'msg' is undefined" in report.results[0].error
    assert report.summary.status == "error"


async def test_configuration_errors_raise_before_running():
    with pytest.raises(EvalConfigError, match="prompt"):
        await run_suite(make_suite(), templates={}, options=RunOptions(), provider_config=ProviderConfig())
    with pytest.raises(EvalConfigError, match="case_ids"):
        await run_suite(
            make_suite(), templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig(), case_ids=["nope"]
        )
    with pytest.raises(EvalConfigError, match="unknown provider"):
        await run_suite(
            make_suite(), templates=TEMPLATES, options=RunOptions(provider="nope"), provider_config=ProviderConfig()
        )
    with pytest.raises(EvalConfigError, match="syntax"):
        await run_suite(
            make_suite(), templates={"main": "{{ oops"}, options=RunOptions(), provider_config=ProviderConfig()
        )


async def test_required_case_and_extra_vars():
    suite = make_suite(
        [
            {"id": "must", "vars": {"msg": "x"}, "asserts": [{"type": "contains", "value": "{{"}], "required": True},
            *cases(9),
        ],
        threshold={"pass_rate": 0.5},
    )
    report = await run_suite(
        suite,
        templates=TEMPLATES,
        options=RunOptions(),
        provider_config=ProviderConfig(),
        extra_vars={"msg": "hello from caller"},
    )
    assert report.summary.pass_rate == pytest.approx(0.9)
    assert report.summary.required_failures == ["must"] and report.summary.status == "failed"
    assert report.results[1].messages[0].content == "Say: hello from caller"


async def test_suite_built_with_model_validate_or_deep_copied_grades_its_assertions():
    import copy

    from evals import Suite

    data = {
        "version": 1,
        "name": "direct",
        "prompt": "main",
        "cases": [{"id": "c1", "vars": {"msg": "hello"}, "asserts": [{"type": "contains", "value": "hello"}]}],
    }
    for suite in (Suite.model_validate(data), copy.deepcopy(Suite.model_validate(data))):
        report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
        assert report.summary.status == "passed", report.results[0].assertions
