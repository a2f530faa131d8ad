"""The reference for :mod:`evals.providers.openai_http`: the same calls made through the ``openai`` SDK.

This is how the ``openai`` provider called the API before it spoke HTTP itself (``AsyncOpenAI`` on its
aiohttp transport, no SDK retries, errors read from the SDK's exceptions). The conformance tests run it and
the direct client against one recording server and require the same requests and the same outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aiohttp
import httpx
import openai

from evals.providers.base import ProviderError
from evals.providers.config import ProviderConfig
from evals.providers.openai_http import parse_retry_after, refused_error


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])[:300]
    return str(exc.message)[:300]


class SDKReference:
    """``POST`` through ``openai.AsyncOpenAI`` (raw responses), with the SDK's errors mapped to ProviderError."""

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config
        key = config.openai_api_key
        self.client = openai.AsyncOpenAI(
            api_key=key.get_secret_value() if key is not None else None,
            base_url=config.openai_base_url,
            timeout=config.timeout_s,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(timeout=config.timeout_s),
        )

    async def post(self, path: str, body: Mapping[str, object]) -> bytes:
        import httpx2

        try:
            response = await self.client.post(path, body=body, cast_to=httpx2.Response)
        except openai.APIConnectionError as exc:
            if refused_error(exc) is not None:
                url = self.client.base_url
                where = f"{url.host}:{url.port}" if url.port else str(url.host)
                raise ProviderError(f"connection refused to {where}", retryable=True, unreachable=True) from None
            if isinstance(exc, openai.APITimeoutError):
                raise ProviderError(f"timed out after {self._config.timeout_s:g} s", retryable=True) from None
            raise ProviderError(f"connection failed: {exc}", retryable=True, unreachable=_no_connection(exc)) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            retryable = status == 429 or status >= 500 or status in (408, 409)
            retry_after = parse_retry_after(exc.response.headers) if retryable else None
            raise ProviderError(
                f"HTTP {status}: {_error_detail(exc)}", retryable=retryable, retry_after=retry_after, status=status
            ) from None
        content: bytes = response.content
        return content

    async def embeddings(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """The SDK's ``embeddings.create`` (it asks for base64 and decodes it), vectors in input order."""
        response = await self.client.embeddings.create(model=model, input=list(texts))
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]

    async def aclose(self) -> None:
        await self.client.close()


def _no_connection(exc: BaseException) -> bool:
    """Whether no connection was made (unknown host, TLS handshake): a connect error anywhere behind ``exc``."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (aiohttp.ClientConnectorError, httpx.ConnectError)):
            return True
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return False
