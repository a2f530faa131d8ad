"""Shared fixtures: a scriptable fake OpenAI-compatible server on loopback, and suite builders."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Self

import pytest
from aiohttp import web

from evals import ProviderConfig, parse_suite

if TYPE_CHECKING:
    from evals.providers.local_embeddings import LoadedModel


@dataclass
class FakeResponse:
    """One scripted answer: a status, a body (dict as JSON, str as raw text), headers and a delay."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion(text: str, prompt_tokens: int = 11, completion_tokens: int = 7) -> dict[str, Any]:
    """A chat.completion body as the OpenAI API returns it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1,
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def letter_vector(text: str) -> list[float]:
    """A deterministic stand-in embedding: letter counts, so texts sharing words are close."""
    lowered = text.lower()
    return [float(lowered.count(chr(c))) for c in range(ord("a"), ord("z") + 1)]


class LoopbackServer:
    """An aiohttp app on 127.0.0.1 (a free port) in a thread of its own; subclasses add their routes."""

    def __init__(self) -> None:
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        self.routes(app)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def cancel_pending() -> None:
            # slow scripted answers may still be sleeping; end them (and let them finish) so teardown is quiet
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_pending(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class FakeOpenAI(LoopbackServer):
    """An OpenAI-compatible /v1/chat/completions (and /v1/embeddings) on 127.0.0.1, scripted per test.

    Scripted responses are served first, in order; then ``answer(body)`` decides (default: echo the
    last user message). Every request body is recorded in ``requests``.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.embedding_requests: list[dict[str, Any]] = []
        self.script: deque[FakeResponse] = deque()
        self.answer: Callable[[dict[str, Any]], FakeResponse] = self.echo
        super().__init__()

    @staticmethod
    def echo(body: dict[str, Any]) -> FakeResponse:
        last = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        return FakeResponse(body=completion(f"Echo: {last}"))

    def reset(self) -> None:
        self.requests.clear()
        self.embedding_requests.clear()
        self.script.clear()
        self.answer = self.echo

    def push(self, *responses: FakeResponse) -> None:
        self.script.extend(responses)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        response = self.script.popleft() if self.script else self.answer(body)
        if response.delay:
            await asyncio.sleep(response.delay)
        text = response.body if isinstance(response.body, str) else json.dumps(response.body or {})
        return web.Response(
            status=response.status, text=text, headers=response.headers, content_type="application/json"
        )

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.embedding_requests.append(body)
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        data = [{"object": "embedding", "index": i, "embedding": letter_vector(t)} for i, t in enumerate(texts)]
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return web.json_response({"object": "list", "data": data, "model": body["model"], "usage": usage})

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/embeddings", self._embeddings)


@pytest.fixture(scope="session")
def _fake_server():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_fake_server: FakeOpenAI) -> FakeOpenAI:
    """The session's fake server, with a clean script and request log."""
    _fake_server.reset()
    return _fake_server


@pytest.fixture
def openai_config(fake_openai: FakeOpenAI) -> ProviderConfig:
    """Provider settings pointing at the fake server with fast retries."""
    return ProviderConfig(
        openai_base_url=fake_openai.base_url,
        openai_api_key="test-key",
        max_retries=2,
        backoff_initial_s=0.01,
        backoff_max_s=1.0,
        timeout_s=5.0,
    )


def make_suite(cases: list[dict[str, Any]] | None = None, **overrides: Any):
    """A parsed suite with sensible defaults; ``cases`` and any top-level field may be overridden."""
    data: dict[str, Any] = {
        "version": 1,
        "name": "test-suite",
        "prompt": "main",
        "model": {"provider": "offline", "name": "test-model"},
        "cases": cases or [{"id": "c1", "vars": {"msg": "hello"}, "asserts": [{"type": "contains", "value": "hello"}]}],
    }
    data.update(overrides)
    return parse_suite(data)


TEMPLATES = {"main": "Say: {{ msg }}"}
FIXTURES = Path(__file__).parent / "fixtures"


class NetworkUsed(AssertionError):
    """Something tried to reach the network while a test forbade it."""


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Within: any outgoing connection or name lookup fails loudly (loopback included: nothing is allowed)."""

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise NetworkUsed(f"network use forbidden here: {args[1:] or kwargs}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        yield


@pytest.fixture(scope="session")
def local_embedding_model() -> LoadedModel:
    """all-MiniLM-L6-v2 from the local-embeddings extra, loaded once for the session, with the network forbidden.

    Loading takes seconds (PyTorch's import most of it): every test of the local method shares this one load.
    """
    from evals.providers.local_embeddings import load_model

    with no_network():
        return load_model("all-minilm-l6-v2")
