"""``similar`` by embeddings: cosine similarity through an OpenAI-compatible /v1/embeddings (real SDK, local fake)."""

from __future__ import annotations

import math

import pytest
from aiohttp import web

from evals import ProviderConfig, RunOptions, SuiteError, run_suite
from tests.evals.conftest import TEMPLATES, FakeResponse, LoopbackServer, completion, letter_vector, make_suite

OPENAI = RunOptions(provider="openai:gpt-4o-mini", concurrency=4)
METHOD = "openai:embedding:text-embedding-3-small"


def cosine(a: str, b: str) -> float:
    x, y = letter_vector(a), letter_vector(b)
    return sum(p * q for p, q in zip(x, y, strict=True)) / (math.hypot(*x) * math.hypot(*y))


async def test_similar_by_embeddings_scores_cosine_and_embeds_each_text_once(fake_openai, openai_config):
    answer = "Set one measurable sales goal."
    fake_openai.answer = lambda body: FakeResponse(body=completion(answer))
    reference = "Set a measurable goal for sales."
    far = "zzz qqq xxx"
    cases = [
        {
            "id": f"c{i}",
            "vars": {"msg": f"hello {i}"},
            "asserts": [
                {"type": "similar", "value": reference, "threshold": 0.9, "method": METHOD},
                {"type": "not-similar", "value": far, "threshold": 0.5, "method": METHOD},
            ],
        }
        for i in range(3)
    ]
    report = await run_suite(make_suite(cases), templates=TEMPLATES, options=OPENAI, provider_config=openai_config)
    assert report.summary.status == "passed", [a.reason for r in report.results for a in r.assertions]
    first = report.results[0].assertions[0]
    assert first.score == pytest.approx(cosine(answer, reference))
    assert "cosine similarity (text-embedding-3-small)" in first.reason
    assert first.args["method"] == METHOD  # the report says how it compared
    assert {r["model"] for r in fake_openai.embedding_requests} == {"text-embedding-3-small"}
    embedded = [t for r in fake_openai.embedding_requests for t in r["input"]]
    assert sorted(embedded) == sorted({answer, reference, far})  # every distinct text once per run


async def test_similar_by_embeddings_fails_below_threshold(fake_openai, openai_config):
    fake_openai.answer = lambda body: FakeResponse(body=completion("abc"))
    case = {"id": "c", "vars": {"msg": "x"}, "asserts": [{"type": "similar", "value": "xyz", "method": METHOD}]}
    report = await run_suite(make_suite([case]), templates=TEMPLATES, options=OPENAI, provider_config=openai_config)
    assert report.summary.status == "failed" and report.results[0].assertions[0].score == 0.0


async def test_string_method_is_unchanged_and_offline_runs_make_no_embedding_calls(fake_openai):
    case = {
        "id": "c",
        "vars": {"msg": "hello"},
        "offline_output": "Say: hello",
        "asserts": [{"type": "similar", "value": "Say: hello", "method": "string"}],
    }
    report = await run_suite(
        make_suite([case]), templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig()
    )
    assert report.summary.status == "passed" and "similarity 1.00" in report.results[0].assertions[0].reason
    case["asserts"] = [{"type": "similar", "value": "Say: hello", "method": METHOD}]
    report = await run_suite(
        make_suite([case]), templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig()
    )
    assert report.results[0].outcome == "error" and "no embeddings endpoint" in report.results[0].assertions[0].reason
    assert fake_openai.embedding_requests == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "similar", "value": "x", "method": "cohere:embed"}, "unknown method"),
        ({"type": "contains", "value": "x", "method": "string"}, "takes no method"),
    ],
)
def test_bad_methods_are_suite_errors(spec, message):
    with pytest.raises(SuiteError, match=message):
        make_suite([{"id": "c", "vars": {"msg": "x"}, "asserts": [spec]}])


class NoEmbeddingsModel(LoopbackServer):
    """Answers chat completions; its /v1/embeddings knows no model."""

    def routes(self, app: web.Application) -> None:
        async def chat(request: web.Request) -> web.Response:
            return web.json_response(completion("Set one goal."))

        async def embeddings(request: web.Request) -> web.Response:
            return web.json_response({"error": {"message": "The model `nope` does not exist"}}, status=404)

        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_post("/v1/embeddings", embeddings)


async def test_a_failed_embeddings_call_is_named_as_such_not_as_a_judges():
    server = NoEmbeddingsModel().start()
    config = ProviderConfig(openai_base_url=server.base_url, openai_api_key="k")
    case = {"id": "c", "vars": {"msg": "x"}, "asserts": [{"type": "similar", "value": "a goal", "method": METHOD}]}
    try:
        report = await run_suite(make_suite([case]), templates=TEMPLATES, options=OPENAI, provider_config=config)
    finally:
        server.stop()
    (verdict,) = report.results[0].assertions
    assert verdict.outcome == "error"
    assert verdict.reason == "embeddings call failed: HTTP 404: The model `nope` does not exist"
