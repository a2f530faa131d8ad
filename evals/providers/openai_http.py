"""The OpenAI HTTP API spoken directly over aiohttp: one endpoint (base URL, key, headers), one session per run.

Why not the ``openai`` SDK on the hot path (measured on the 2-core bench machine, see bench/README.md):
``import openai`` costs 0.6-0.9 s of CPU and ~25 MB RSS beyond what the engine already loads (it imports
every API's pydantic models), which was most of the one-shot ``steward eval run``'s start-up; and each
call went through ``AsyncOpenAI.post`` -> ``_build_request`` -> httpx2 URL and header objects -> the aiohttp
transport, about 2 ms of CPU per call, more than the rest of a case. Here a call is one ``session.post`` of
bytes to a URL parsed once, with headers built once. The SDK stays a dependency and the reference: a
conformance test (tests/evals/providers/test_openai_conformance.py) makes the same calls through the SDK and
through this module against one recording server and asserts the same requests and the same reading of
every kind of response.

What is kept from the SDK's behaviour: the base URL and key come from the caller's configuration, else
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` (default ``https://api.openai.com/v1``); ``OPENAI_ORG_ID`` and
``OPENAI_PROJECT_ID`` become the ``OpenAI-Organization`` / ``OpenAI-Project`` headers; proxies and CA
bundles come from the environment (``HTTPS_PROXY``, ``SSL_CERT_FILE``...); an error status's message is read
from the body's ``error.message`` the way the SDK reads it. Not supported (the engine never used them):
admin keys, workload identity, ``OPENAI_CUSTOM_HEADERS``.
"""

from __future__ import annotations

import email.utils
import json
import os
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from evals.providers.base import ProviderError, ProviderSetupError
from evals.providers.config import ProviderConfig

if TYPE_CHECKING:
    import aiohttp
    import yarl

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# the statuses worth another attempt: rate limited, the server's own failures, request timeout and conflict
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


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
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


def status_error_detail(status: int, content: bytes) -> str:
    """What an error status's body says, as the SDK reads it: ``error.message``, else ``Error code: N``.

    The SDK keeps ``body.get("error", body)`` of a JSON object and takes its ``message``; its own error
    text, used when there is none, is ``Error code: N`` (plus `` - message`` when the outer object's
    ``error`` is not an object but the message is found one level up).
    """
    fallback = f"Error code: {status}"
    try:
        parsed = json.loads(content.decode("utf-8", "replace").strip())
    except ValueError:
        return fallback
    if not isinstance(parsed, Mapping):
        return fallback
    outer = parsed.get("error", parsed)
    message = outer.get("message") if isinstance(outer, Mapping) else None
    if isinstance(message, str) and message:
        fallback += f" - {message}"
    if isinstance(outer, Mapping):
        inner = outer.get("error", outer)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])[:300]
    return fallback[:300]


def refused_error(exc: BaseException) -> ConnectionRefusedError | None:
    """The ConnectionRefusedError behind ``exc`` (through causes, contexts and aiohttp's os_error), if any."""
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


class OpenAIEndpoint:
    """POSTs JSON to one OpenAI-compatible server; failures become :class:`ProviderError` with ``retryable`` set.

    The aiohttp session is made on the first call (inside the run's event loop) and lives until
    :meth:`aclose`. Its connection pool has no limit of its own: the runner's workers already bound the
    calls in flight to the run's concurrency, so the pool grows to exactly that and keeps the connections
    alive between waves; a smaller fixed limit (aiohttp's default is 100) would queue calls behind it and
    charge the wait to their timeout.

    Args:
        config: Base URL, key and per-call timeout.
        user: Who needs the endpoint, for setup errors (``the openai provider``, ``embeddings``).
    """

    def __init__(self, config: ProviderConfig, *, user: str) -> None:
        self._config = config
        self._user = user
        self._session: aiohttp.ClientSession | None = None
        self._headers: dict[str, str] = {}
        self._base = ""
        self._urls: dict[str, yarl.URL] = {}
        self._proxy: yarl.URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        self.endpoint = ""  # host:port, for "connection refused to ..."

    def _setup(self) -> aiohttp.ClientSession:
        import aiohttp
        import yarl

        key = self._config.openai_api_key
        api_key = key.get_secret_value() if key is not None else os.environ.get("OPENAI_API_KEY")
        if not api_key:
            raise ProviderSetupError(
                f"{self._user} has no API key: set STEWARD_OPENAI_API_KEY or OPENAI_API_KEY "
                "(or ProviderConfig.openai_api_key)"
            )
        base = self._config.openai_base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        try:
            base_url = yarl.URL(base)
        except (TypeError, ValueError) as exc:
            raise ProviderSetupError(f"{self._user}: the base URL {base!r} is not a URL: {exc}") from None
        if base_url.scheme not in ("http", "https") or not base_url.host:
            raise ProviderSetupError(
                f"{self._user}: the base URL {base!r} is not an http(s) URL with a host, "
                "e.g. https://api.openai.com/v1 (STEWARD_OPENAI_BASE_URL or OPENAI_BASE_URL)"
            )
        self._base = str(base_url).rstrip("/")
        self.endpoint = f"{base_url.host}:{base_url.explicit_port}" if base_url.explicit_port else base_url.host
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "steward-eval",
        }
        for variable, header in (("OPENAI_ORG_ID", "OpenAI-Organization"), ("OPENAI_PROJECT_ID", "OpenAI-Project")):
            value = os.environ.get(variable)
            if value:
                self._headers[header] = value
        # HTTP(S)_PROXY and NO_PROXY, as the SDK honours them, looked up once: the session's trust_env would
        # look them up (and read ~/.netrc) in a thread on every request, ~0.1 ms of CPU each
        try:
            self._proxy, self._proxy_auth = aiohttp.helpers.get_env_proxy_for_url(base_url)
        except LookupError:
            self._proxy, self._proxy_auth = None, None
        connector = aiohttp.TCPConnector(limit=0, ssl=_ssl_context() if base_url.scheme == "https" else True)
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_s)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    def _url(self, path: str) -> yarl.URL:
        url = self._urls.get(path)
        if url is None:
            import yarl

            url = self._urls[path] = yarl.URL(self._base + "/" + path.lstrip("/"))
        return url

    async def post(self, path: str, body: Mapping[str, object]) -> bytes:
        """POST ``body`` as JSON to ``path`` under the base URL; the response body of a 2xx answer.

        Raises:
            ProviderSetupError: No API key, or a base URL that is not http(s).
            ProviderError: Refused connection, timeout, other transport failure (all retryable; ``unreachable``
                when no connection was made), or an error status (retryable for 408, 409, 429 and 5xx, with
                the server's Retry-After).
        """
        import aiohttp

        session = self._session if self._session is not None else self._setup()
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            async with session.post(
                self._url(path), data=data, headers=self._headers, proxy=self._proxy, proxy_auth=self._proxy_auth
            ) as response:
                content = await response.read()
                status = response.status
                headers = response.headers
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            if refused_error(exc) is not None:
                raise ProviderError(
                    f"connection refused to {self.endpoint}", retryable=True, unreachable=True
                ) from None
            if isinstance(exc, TimeoutError):
                raise ProviderError(f"timed out after {self._config.timeout_s:g} s", retryable=True) from None
            if isinstance(exc, aiohttp.ClientConnectorDNSError):  # a misspelt host in the base URL, most often
                reason = exc.os_error.strerror or str(exc.os_error)
                raise ProviderError(f"unknown host {exc.host} ({reason})", retryable=True, unreachable=True) from None
            # a connector error made no connection (TLS handshake, proxy): unlike a dropped one, nothing was sent
            raise ProviderError(
                f"connection failed: {type(exc).__name__}: {exc}",
                retryable=True,
                unreachable=isinstance(exc, aiohttp.ClientConnectorError),
            ) from None
        if status >= 400:
            retryable = status >= 500 or status in _RETRYABLE_STATUSES
            raise ProviderError(
                f"HTTP {status}: {status_error_detail(status, content)}",
                retryable=retryable,
                retry_after=parse_retry_after(headers) if retryable else None,
                status=status,
            )
        return content

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _ssl_context() -> ssl.SSLContext:
    """Verify servers against ``SSL_CERT_FILE``/``SSL_CERT_DIR`` if set, else certifi's bundle (the SDK's default)."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
