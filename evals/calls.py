"""One model call as the runner makes it: cache lookup, rate limit, per-call timeout, retries."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypedDict

from evals.cache import CachedAnswer, ResponseCache, cache_key
from evals.messages import Message
from evals.providers import (
    ChatRequest,
    Completion,
    Provider,
    ProviderError,
    ProviderSetupError,
    ProviderUnreachable,
)
from evals.providers.base import spec_name
from evals.ratelimit import RateLimiter, estimate_tokens
from evals.retry import RetryPolicy


class CallParameters(TypedDict, total=False):
    """Sampling parameters of a call; a missing key is left to the provider.

    ``sample`` is the repeat index, which only keys the cache: repeats after the first are distinct samples.
    """

    temperature: float
    max_tokens: int
    seed: int
    sample: int


@dataclass(slots=True)
class CallResult:
    """A model answer with how it was obtained.

    Attributes:
        text: The answer.
        prompt_tokens: Prompt tokens.
        completion_tokens: Answer tokens.
        cost_usd: Cost from the price table, or None when unknown.
        latency_ms: The successful attempt's latency (the original call's when cached).
        cached: Whether the answer came from the cache.
        attempts: Provider calls made for it (0 when cached).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_ms: float
    cached: bool
    attempts: int


class ModelCaller:
    """Calls one provider the way every case and judge should: cached, rate limited, retried."""

    def __init__(
        self,
        provider: Provider,
        *,
        parameters: CallParameters,
        cache: ResponseCache | None,
        limiter: RateLimiter | None,
        policy: RetryPolicy,
        timeout_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Set up calls to ``provider``.

        Args:
            provider: The provider to call.
            parameters: temperature, max_tokens and seed (None values are left to the provider).
            cache: Where answers are looked up and stored; None to bypass (``--no-cache``).
            limiter: Rate limits for this provider, or None.
            policy: Retry policy.
            timeout_s: Per-attempt timeout; the provider's own timeout should fire first.
            sleep: Async sleep between retries, replaceable in tests.
        """
        self.provider = provider
        self._parameters = parameters
        self._cache = cache if provider.cacheable else None
        self._limiter = limiter
        self._policy = policy
        # a guard a little above the provider's own timeout, for providers without one
        self._guard_s = timeout_s + 5.0
        self._sleep = sleep
        self.provider_calls = 0
        self.reached = 0  # attempts that connected (answered, an error status or a timeout): the provider is there

    async def call(self, messages: list[Message], *, case_id: str | None, sample: int = 0) -> CallResult:
        """Answer ``messages``, from the cache when possible.

        Args:
            messages: Rendered chat messages.
            case_id: The case asking (scripted providers answer by it); None for judge calls.
            sample: Repeat index; repeats after the first are distinct samples with their own cache keys.

        Raises:
            ProviderError: The call failed and retries (if any applied) did not help.
            ProviderUnreachable: No attempt could connect, and no call of this caller ever has.
            ProviderSetupError: The provider cannot work at all.
        """
        cache = self._cache
        key = None
        if cache is not None:
            params: CallParameters = self._parameters if sample == 0 else {**self._parameters, "sample": sample}
            key = cache_key(self.provider.name, self.provider.model, params, messages)
            hit = cache.get(key)
            if inspect.isawaitable(hit):
                hit = await hit
            if hit is not None:
                return CallResult(
                    hit["text"],
                    int(hit.get("prompt_tokens", 0)),
                    int(hit.get("completion_tokens", 0)),
                    hit.get("cost_usd"),
                    float(hit.get("latency_ms", 0.0)),
                    True,
                    0,
                )
        request = ChatRequest(
            messages,
            self._parameters.get("temperature"),
            self._parameters.get("max_tokens"),
            self._parameters.get("seed"),
            case_id,
        )
        completion, latency_ms, attempts = await self._call_with_retries(request)
        result = CallResult(
            completion.text,
            completion.prompt_tokens,
            completion.completion_tokens,
            completion.cost_usd,
            latency_ms,
            False,
            attempts,
        )
        if cache is not None and key is not None:
            answer: CachedAnswer = {
                "text": result.text,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "cost_usd": result.cost_usd,
                "latency_ms": result.latency_ms,
            }
            stored = cache.put(key, answer)
            if inspect.isawaitable(stored):
                await stored
        return result

    async def _call_with_retries(self, request: ChatRequest) -> tuple[Completion, float, int]:
        retry_number = 0
        while True:
            estimated = 0
            if self._limiter is not None:
                estimated = estimate_tokens(request.messages, request.max_tokens)
                await self._limiter.acquire(estimated)
            self.provider_calls += 1
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self._guard_s):
                    completion = await self.provider.complete(request)
            except TimeoutError:
                error: ProviderError = ProviderError(f"timed out after {self._guard_s:g} s", retryable=True)
            except ProviderError as exc:
                error = exc
            except ProviderSetupError:
                self.provider_calls -= 1  # the provider could not start (no key, no model): nothing was sent
                raise
            else:
                latency_ms = (time.perf_counter() - started) * 1000.0
                self.reached += 1
                if self._limiter is not None:
                    self._limiter.settle(estimated, completion.prompt_tokens + completion.completion_tokens)
                return completion, latency_ms, retry_number + 1
            if error.unreachable:
                self.provider_calls -= 1  # no connection: nothing reached the provider
            else:
                self.reached += 1
            if not self._policy.should_retry(retry_number, error):
                attempts = retry_number + 1
                message = f"{error} (after {attempts} attempts)" if attempts > 1 else str(error)
                if error.unreachable and not self.reached:
                    raise ProviderUnreachable(message, provider=spec_name(self.provider)) from None
                if attempts > 1:
                    raise ProviderError(message, retryable=False, status=error.status) from None
                raise error
            await self._sleep(self._policy.delay(retry_number, error))
            retry_number += 1
