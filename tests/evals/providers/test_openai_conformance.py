"""The direct client speaks the API as the ``openai`` SDK does: same requests, same reading of every answer.

Each test makes one call through the SDK (:mod:`tests.evals.providers.sdk_reference`) and the same call
through :class:`evals.providers.openai_http.OpenAIEndpoint` against one local server that records what
it receives and answers both alike.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from evals.providers import ChatRequest, Completion, ProviderConfig, ProviderError
from evals.providers.embeddings import OpenAIEmbeddings
from evals.providers.openai_compatible import OpenAIProvider, is_reasoning_model
from evals.providers.openai_http import OpenAIEndpoint
from tests.evals.conftest import LoopbackServer, completion, letter_vector
from tests.evals.providers.sdk_reference import SDKReference


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class Answer:
    status: int = 200
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class RecordingServer(LoopbackServer):
    """Records every request (method, path, headers, JSON body) and answers each with ``answer(recorded)``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answer: Callable[[Recorded], Answer] = lambda r: Answer(text=json.dumps(completion("hi")))
        super().__init__()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        recorded = Recorded(
            request.method, request.path, {k.lower(): v for k, v in request.headers.items()}, json.loads(raw), raw
        )
        self.requests.append(recorded)
        answer = self.answer(recorded)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(
            status=answer.status, text=answer.text, headers=answer.headers, content_type="application/json"
        )

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)


@pytest.fixture(scope="module")
def _server():
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(_server: RecordingServer) -> RecordingServer:
    _server.requests.clear()
    _server.answer = lambda r: Answer(text=json.dumps(completion("hi")))
    return _server


def config_for(base_url: str, timeout_s: float = 5.0) -> ProviderConfig:
    return ProviderConfig(openai_base_url=base_url, openai_api_key="sk-conformance", timeout_s=timeout_s)


Outcome = tuple[str, Any]


async def outcome(call: Awaitable[Any]) -> Outcome:
    """What a call came to: its value, or the ProviderError's message, retryability, Retry-After, status and
    whether no connection was made."""
    try:
        return ("value", await call)
    except ProviderError as exc:
        retry_after = None if exc.retry_after is None else round(exc.retry_after)
        return ("error", (str(exc), exc.retryable, retry_after, exc.status, exc.unreachable))


async def both(config: ProviderConfig, path: str, body: dict[str, Any]) -> tuple[Outcome, Outcome]:
    """The same POST through the SDK and through the direct client."""
    sdk, direct = SDKReference(config), OpenAIEndpoint(config, user="the openai provider")
    try:
        return await outcome(sdk.post(path, body)), await outcome(direct.post(path, body))
    finally:
        await sdk.aclose()
        await direct.aclose()


CHAT_BODY = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": 'Grüße, "quoted" ✓'}],
    "temperature": 0.2,
    "max_tokens": 64,
    "seed": 7,
}


def same_requests(server: RecordingServer) -> Recorded:
    sdk, direct = server.requests
    assert (direct.method, direct.path, direct.body) == (sdk.method, sdk.path, sdk.body)
    assert direct.raw == sdk.raw  # the same JSON text too: compact, UTF-8 as is
    for header in ("authorization", "content-type", "accept", "openai-organization", "openai-project"):
        assert direct.headers.get(header) == sdk.headers.get(header), header
    return direct


async def test_a_chat_completion_is_the_same_request_and_the_same_answer(server, monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    sdk, direct = await both(config_for(server.base_url), "/chat/completions", CHAT_BODY)
    assert sdk == direct and sdk[0] == "value"
    sent = same_requests(server)
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer sk-conformance"
    assert sent.headers["openai-organization"] == "org-1" and sent.headers["openai-project"] == "proj-1"
    assert sent.body == CHAT_BODY


async def test_the_provider_reads_the_completion_the_sdk_returns(server):
    request = ChatRequest(messages=CHAT_BODY["messages"], temperature=0.2, max_tokens=64, seed=7)
    provider = OpenAIProvider("gpt-4o-mini", config_for(server.base_url))
    try:
        answer = await provider.complete(request)
    finally:
        await provider.aclose()
    assert server.requests[0].body == CHAT_BODY
    assert answer == Completion("hi", 11, 7, ProviderConfig().cost_of("gpt-4o-mini", 11, 7))


@pytest.mark.parametrize(
    ("model", "sampled"),
    [("gpt-4.1", True), ("o4-mini", False), ("o1", False), ("gpt-5-mini", False), ("ft:o3-mini:acme::x1", False)],
)
async def test_a_reasoning_model_is_sent_no_temperature_and_no_max_tokens(server, model, sampled):
    # OpenAI refuses both for its reasoning models; promptfoo sends neither, so an imported matrix samples the same
    request = ChatRequest(messages=CHAT_BODY["messages"], temperature=0.2, max_tokens=64, seed=7)
    provider = OpenAIProvider(model, config_for(server.base_url))
    try:
        await provider.complete(request)
    finally:
        await provider.aclose()
    body = server.requests[0].body
    assert body["seed"] == 7 and body["model"] == model
    assert ("temperature" in body, "max_tokens" in body) == (sampled, sampled)
    assert is_reasoning_model(model) is not sampled


ERROR_ANSWERS = {
    "400 bad request": Answer(400, json.dumps({"error": {"message": "bad model", "type": "invalid_request_error"}})),
    "401 no key": Answer(401, json.dumps({"error": {"message": "Incorrect API key provided", "code": "invalid"}})),
    "404 unknown model": Answer(404, json.dumps({"error": {"message": "The model `x` does not exist"}})),
    "429 with retry-after": Answer(429, json.dumps({"error": {"message": "slow down"}}), {"retry-after": "7"}),
    "429 with retry-after-ms": Answer(429, json.dumps({"error": {"message": "later"}}), {"retry-after-ms": "2500"}),
    "500 with an error body": Answer(500, json.dumps({"error": {"message": "boom"}})),
    "502 with a text body": Answer(502, "Bad gateway"),
    "503 with an empty body": Answer(503, ""),
    "409 with a flat body": Answer(409, json.dumps({"message": "conflict", "code": 409})),
    "422 with an error string": Answer(422, json.dumps({"error": "unprocessable"})),
    "400 with a list body": Answer(400, json.dumps([{"message": "odd"}])),
    "200 malformed JSON": Answer(200, "{not json"),
    "200 without choices": Answer(200, json.dumps({"choices": []})),
    "200 with non-text content": Answer(200, json.dumps({"choices": [{"message": {"content": None}}]})),
}


@pytest.mark.parametrize("answer", ERROR_ANSWERS.values(), ids=ERROR_ANSWERS.keys())
async def test_error_answers_are_read_the_same_way(server, answer):
    server.answer = lambda r: answer
    config = config_for(server.base_url)
    sdk, direct = await both(config, "/chat/completions", CHAT_BODY)
    assert direct == sdk
    same_requests(server)
    if answer.status == 200:  # the body itself is what is wrong: both providers refuse it alike
        provider = OpenAIProvider("gpt-4o-mini", config)
        with pytest.raises(ProviderError, match="malformed response body") as raised:
            provider._completion(sdk[1])
        assert not raised.value.retryable
    else:
        assert direct[0] == "error" and direct[1][0].startswith(f"HTTP {answer.status}: ")


async def test_retry_after_as_an_http_date_is_read_the_same_way(server):
    from email.utils import formatdate
    from time import time

    server.answer = lambda r: Answer(429, "{}", {"retry-after": formatdate(time() + 30, usegmt=True)})
    sdk, direct = await both(config_for(server.base_url), "/chat/completions", CHAT_BODY)
    assert sdk[0] == direct[0] == "error"
    assert sdk[1][:2] == direct[1][:2] == ("HTTP 429: Error code: 429", True)
    assert abs(sdk[1][2] - direct[1][2]) <= 1 and 28 <= direct[1][2] <= 30


async def test_a_refused_connection_is_refused_in_both():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sdk, direct = await both(config_for(f"http://127.0.0.1:{port}/v1"), "/chat/completions", CHAT_BODY)
    assert direct == sdk == ("error", (f"connection refused to 127.0.0.1:{port}", True, None, None, True))


async def test_a_host_that_does_not_resolve_is_named(monkeypatch):
    import socket

    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # aiohttp's threaded resolver asks it
    endpoint = OpenAIEndpoint(config_for("https://api.openai.example/v1"), user="the openai provider")
    try:
        failed = await outcome(endpoint.post("/chat/completions", CHAT_BODY))
    finally:
        await endpoint.aclose()
    assert failed == ("error", ("unknown host api.openai.example (Name or service not known)", True, None, None, True))


async def test_a_failed_tls_handshake_is_a_connection_never_made(server):
    # The SDK on its aiohttp transport reports this as "timed out after 5 s" at once: the direct client says what it is.
    endpoint = OpenAIEndpoint(config_for(server.base_url.replace("http://", "https://")), user="the openai provider")
    try:
        failed = await outcome(endpoint.post("/chat/completions", CHAT_BODY))
    finally:
        await endpoint.aclose()
    assert failed[0] == "error" and failed[1][0].startswith("connection failed: ClientConnectorSSLError: ")
    assert failed[1][1:] == (True, None, None, True)
    assert server.requests == [], "nothing reached the server"


async def test_a_slow_answer_times_out_in_both(server):
    server.answer = lambda r: Answer(text=json.dumps(completion("late")), delay=1.0)
    sdk, direct = await both(config_for(server.base_url, timeout_s=0.2), "/chat/completions", CHAT_BODY)
    assert direct == sdk == ("error", ("timed out after 0.2 s", True, None, None, False))


async def test_the_key_and_base_url_come_from_the_environment_when_not_configured(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    sdk, direct = await both(ProviderConfig(), "/chat/completions", CHAT_BODY)
    assert sdk == direct and sdk[0] == "value"
    assert same_requests(server).headers["authorization"] == "Bearer sk-from-env"


async def test_no_key_names_both_variables_and_a_bad_base_url_is_a_setup_error(monkeypatch):
    from evals.providers import ProviderSetupError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    endpoint = OpenAIEndpoint(ProviderConfig(openai_base_url="http://127.0.0.1:9/v1"), user="the openai provider")
    with pytest.raises(ProviderSetupError, match="STEWARD_OPENAI_API_KEY or OPENAI_API_KEY"):
        await endpoint.post("/chat/completions", CHAT_BODY)
    endpoint = OpenAIEndpoint(
        ProviderConfig(openai_base_url="ftp://example.com/v1", openai_api_key="k"), user="the openai provider"
    )
    with pytest.raises(ProviderSetupError, match=re.escape("'ftp://example.com/v1' is not an http(s) URL")):
        await endpoint.post("/chat/completions", CHAT_BODY)


def embeddings_answer(recorded: Recorded) -> Answer:
    """Vectors as floats or, when asked for base64 (the SDK does by default), as little-endian float32."""
    import base64
    import struct

    texts = recorded.body["input"]
    vectors = [letter_vector(t) for t in texts]
    base64_wanted = recorded.body.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if base64_wanted else v,
        }
        for i, v in reversed(list(enumerate(vectors)))  # out of order: both must sort by index
    ]
    return Answer(text=json.dumps({"object": "list", "data": data, "model": recorded.body["model"]}))


async def test_embeddings_are_the_same_request_and_the_same_vectors(server):
    server.answer = embeddings_answer
    config = config_for(server.base_url)
    texts = ["Set a measurable goal.", "zzz"]
    sdk = SDKReference(config)
    direct = OpenAIEmbeddings(config)
    try:
        expected = await sdk.embeddings("text-embedding-3-small", texts)
        got = await direct("text-embedding-3-small", texts)
    finally:
        await sdk.aclose()
        await direct.aclose()
    assert got == expected == [letter_vector(t) for t in texts]
    sent = same_requests(server)
    assert (sent.path, sent.body["input"]) == ("/v1/embeddings", texts)


async def test_embedding_errors_are_provider_errors_after_the_configured_retries(server):
    server.answer = lambda r: Answer(500, json.dumps({"error": {"message": "boom"}}))
    config = ProviderConfig(openai_base_url=server.base_url, openai_api_key="k", max_retries=2, backoff_initial_s=0.01)
    embeddings = OpenAIEmbeddings(config)
    try:
        with pytest.raises(ProviderError, match="HTTP 500: boom"):
            await embeddings("m", ["a"])
    finally:
        await embeddings.aclose()
    assert len(server.requests) == 3  # the first attempt and two retries, as the SDK's max_retries made


async def test_an_http_proxy_from_the_environment_is_used_by_both(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.base_url.removesuffix("/v1"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sdk, direct = await both(config_for("http://api.example.test/v1"), "/chat/completions", CHAT_BODY)
    assert sdk == direct and sdk[0] == "value"  # the host does not exist: only the proxy could answer
    assert same_requests(server).headers["host"] == "api.example.test"
