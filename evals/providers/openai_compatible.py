"""``openai:<model>``: OpenAI and any OpenAI-compatible endpoint (Azure OpenAI, vLLM, Ollama), over aiohttp.

``POST {base}/chat/completions`` is made directly (:mod:`evals.providers.openai_http`), not through the
``openai`` SDK: the SDK's import was most of the one-shot CLI's start-up and its request machinery about
2 ms of CPU per call (figures in bench/README.md). The SDK remains the reference: a conformance test makes
the same calls through both and compares the requests and the errors. There are no retries here: the
runner retries with backoff, jitter and Retry-After, and rate limits, the same way for every provider.

OpenAI's reasoning models (o1, o3, o4, gpt-5, deep-research) refuse ``temperature`` (but for its default) and
``max_tokens``: they are sent neither, as promptfoo sends them neither, so a matrix of a chat model and a reasoning
model shares one set of parameters, and an imported promptfoo config samples each model as promptfoo did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import NotRequired, TypedDict

from evals.messages import Message
from evals.providers.base import ChatRequest, Completion, ProviderError, ProviderSetupError, provider
from evals.providers.config import ProviderConfig
from evals.providers.openai_http import OpenAIEndpoint, parse_retry_after

__all__ = ["OpenAIProvider", "create_openai", "is_reasoning_model", "parse_retry_after"]


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` is one of OpenAI's reasoning models, by promptfoo's rule (a fine-tune's ``ft:`` aside)."""
    name = re.sub(r"(^|/)ft:", r"\1", model)
    return name.startswith(("gpt-5", "o1", "o3", "o4")) or "deep-research" in name


class _RequestBody(TypedDict):
    """The JSON body of ``POST /chat/completions``, as far as the provider fills it."""

    model: str
    messages: list[Message]
    temperature: NotRequired[float]
    max_tokens: NotRequired[int]
    seed: NotRequired[int]


class OpenAIProvider:
    """Chat completions from an OpenAI-compatible server, one connection pool per run."""

    name = "openai"
    offline = False
    cacheable = True

    def __init__(self, model: str, config: ProviderConfig) -> None:
        self.model = model
        self._config = config
        self._endpoint = OpenAIEndpoint(config, user="the openai provider")
        self._samples = not is_reasoning_model(model)  # takes temperature and max_tokens

    async def complete(self, request: ChatRequest) -> Completion:
        """Make one chat completion; failures become ProviderError with ``retryable`` set."""
        body: _RequestBody = {"model": self.model, "messages": request.messages}
        if request.temperature is not None and self._samples:
            body["temperature"] = request.temperature
        if request.max_tokens is not None and self._samples:
            body["max_tokens"] = request.max_tokens
        if request.seed is not None:
            body["seed"] = request.seed
        return self._completion(await self._endpoint.post("/chat/completions", body))

    def _completion(self, content: bytes) -> Completion:
        try:
            data = json.loads(content)
            text = data["choices"][0]["message"]["content"]
            if not isinstance(text, str):
                raise TypeError(f"message content is {type(text).__name__}, not text")
            usage = data.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            completion_tokens = int(usage.get("completion_tokens") or 0)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            snippet = content[:120].decode("utf-8", "replace")
            raise ProviderError(f"malformed response body ({exc}): {snippet!r}", retryable=False) from None
        cost = self._config.cost_of(self.model, prompt_tokens, completion_tokens)
        return Completion(text, prompt_tokens, completion_tokens, cost)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._endpoint.aclose()


@provider("openai")
def create_openai(model: str | None, config: ProviderConfig, *, scripted: Mapping[str, str]) -> OpenAIProvider:
    """The OpenAI provider; needs a model name (``openai:<model>`` or the suite's ``model.name``)."""
    if not model:
        raise ProviderSetupError("the openai provider needs a model: use openai:<model> or set model.name")
    return OpenAIProvider(model, config)
