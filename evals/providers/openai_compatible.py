"""``openai:<model>``: OpenAI and any OpenAI-compatible endpoint (Azure OpenAI, vLLM, Ollama) via the SDK.

The SDK is imported on the first call, so a run answered from the cache never pays its import.
The SDK's own retries are off: the runner retries with backoff, jitter and Retry-After, and rate
limits, the same way for every provider. Requests go through ``AsyncOpenAI.post`` with the raw
response: the typed ``chat.completions.create`` path transforms parameters and builds response
models per call, which cost about 2 ms of CPU each, more than everything else in a case together.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NotRequired, Protocol, TypedDict

from evals.messages import Message
from evals.providers.base import ChatRequest, Completion, ProviderError, ProviderSetupError, provider
from evals.providers.config import ProviderConfig

if TYPE_CHECKING:
    import openai


class _RequestBody(TypedDict):
    """The JSON body of ``POST /chat/completions``, as far as the provider fills it."""

    model: str
    messages: list[Message]
    temperature: NotRequired[float]
    max_tokens: NotRequired[int]
    seed: NotRequired[int]


class _RawResponse(Protocol):
    """What the provider reads of the SDK's raw HTTP response (httpx2's in openai 3.x, httpx's before)."""

    @property
    def content(self) -> bytes: ...


def _sdk_response_type() -> type[_RawResponse]:
    """The HTTP response class of the installed SDK; as ``cast_to`` it makes the SDK return the raw response."""
    try:
        import httpx2  # the SDK's HTTP library in openai 3.x
    except ImportError:
        import httpx

        return httpx.Response
    return httpx2.Response


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), if any."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


class OpenAIProvider:
    """Chat completions through ``openai.AsyncOpenAI`` on its aiohttp transport, one client per run."""

    name = "openai"
    offline = False
    cacheable = True

    def __init__(self, model: str, config: ProviderConfig) -> None:
        self.model = model
        self._config = config
        self._client: openai.AsyncOpenAI | None = None
        self._response_type: type[_RawResponse] | None = None

    def _connection(self) -> tuple[openai.AsyncOpenAI, type[_RawResponse]]:
        if self._client is not None and self._response_type is not None:
            return self._client, self._response_type
        return self._connect()

    def _connect(self) -> tuple[openai.AsyncOpenAI, type[_RawResponse]]:
        try:
            import openai
        except ImportError:
            raise ProviderSetupError(
                "the openai provider needs the openai package: pip install 'openai[aiohttp]'"
            ) from None
        response_type = _sdk_response_type()
        http_client = None
        if hasattr(openai, "DefaultAioHttpClient"):
            try:
                http_client = openai.DefaultAioHttpClient(timeout=self._config.timeout_s)
            except RuntimeError:
                http_client = None  # aiohttp extra not installed: the SDK's default transport still works
        key = self._config.openai_api_key
        try:
            self._client = openai.AsyncOpenAI(
                api_key=key.get_secret_value() if key is not None else None,
                base_url=self._config.openai_base_url,
                timeout=self._config.timeout_s,
                max_retries=0,
                http_client=http_client,
            )
        except openai.OpenAIError as exc:
            raise ProviderSetupError(
                f"the openai provider cannot start: {exc} "
                "(no API key: set STEWARD_OPENAI_API_KEY or OPENAI_API_KEY, or pass openai_api_key)"
            ) from None
        self._response_type = response_type
        return self._client, response_type

    async def complete(self, request: ChatRequest) -> Completion:
        """Make one chat completion; failures become ProviderError with ``retryable`` set."""
        client, response_type = self._connection()
        # imported by _connect, so this only looks the module up
        import openai

        body: _RequestBody = {"model": self.model, "messages": request.messages}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        if request.seed is not None:
            body["seed"] = request.seed
        try:
            response = await client.post("/chat/completions", body=body, cast_to=response_type)
        except openai.APIConnectionError as exc:
            # the aiohttp transport reports a refused connection as a connect *timeout*: look at the cause
            refused = _refused(exc)
            if refused is not None:
                raise ProviderError(f"connection refused to {self._endpoint(client)}", retryable=True) from None
            if isinstance(exc, openai.APITimeoutError):
                raise ProviderError(f"timed out after {self._config.timeout_s:g} s", retryable=True) from None
            raise ProviderError(f"connection failed: {exc}", retryable=True) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            retryable = status == 429 or status >= 500 or status in (408, 409)
            retry_after = parse_retry_after(exc.response.headers) if retryable else None
            detail = _error_detail(exc)
            raise ProviderError(
                f"HTTP {status}: {detail}", retryable=retryable, retry_after=retry_after, status=status
            ) from None
        return self._completion(response.content)

    @staticmethod
    def _endpoint(client: openai.AsyncOpenAI) -> str:
        url = client.base_url
        return f"{url.host}:{url.port}" if url.port else str(url.host)

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
        """Close the client and its connection pool."""
        if self._client is not None:
            await self._client.close()
            self._client = None


def _refused(exc: BaseException) -> ConnectionRefusedError | None:
    """The ConnectionRefusedError behind ``exc`` (through causes and contexts and aiohttp's os_error), if any."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return current
        pending += [current.__cause__, current.__context__, getattr(current, "os_error", None)]
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
    return None


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])[:300]
    return str(exc.message)[:300]


@provider("openai")
def create_openai(model: str | None, config: ProviderConfig, *, scripted: Mapping[str, str]) -> OpenAIProvider:
    """The OpenAI provider; needs a model name (``openai:<model>`` or the suite's ``model.name``)."""
    if not model:
        raise ProviderSetupError("the openai provider needs a model: use openai:<model> or set model.name")
    return OpenAIProvider(model, config)
