"""ModelCaller: a provider that no attempt can connect to stops the run; one that was reached fails per call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evals.calls import ModelCaller
from evals.providers import ChatRequest, Completion, ProviderError, ProviderSetupError, ProviderUnreachable
from evals.retry import RetryPolicy

REFUSED = ProviderError("connection refused to 127.0.0.1:9", retryable=True, unreachable=True)
DOWN = ProviderError("HTTP 503: overloaded", retryable=True, status=503)


class ScriptedProvider:
    """Answers or fails as scripted, one step per attempt."""

    name, model, offline, cacheable = "scripted", "m", False, False

    def __init__(self, steps: list[ProviderError | str]) -> None:
        self._steps: Iterator[ProviderError | str] = iter(steps)
        self.attempts = 0

    async def complete(self, request: ChatRequest) -> Completion:
        self.attempts += 1
        step = next(self._steps)
        if isinstance(step, ProviderError):
            raise step
        return Completion(step, 1, 1)

    async def aclose(self) -> None:
        return None


def caller_for(provider: ScriptedProvider, retries: int = 2) -> ModelCaller:
    async def no_wait(_: float) -> None:
        return None

    policy = RetryPolicy(max_retries=retries, initial_s=0.0)
    return ModelCaller(provider, parameters={}, cache=None, limiter=None, policy=policy, timeout_s=5, sleep=no_wait)


async def ask(caller: ModelCaller) -> str:
    return (await caller.call([{"role": "user", "content": "hi"}], case_id="c")).text


async def test_a_provider_never_reached_is_unreachable_after_every_attempt_and_made_no_calls():
    provider = ScriptedProvider([REFUSED] * 3)
    caller = caller_for(provider)
    refused = r"^connection refused to 127.0.0.1:9 \(after 3 attempts\)$"
    with pytest.raises(ProviderUnreachable, match=refused) as raised:
        await ask(caller)
    assert raised.value.provider == "scripted:m"
    assert provider.attempts == 3, "every retry is still tried before giving up"
    assert caller.provider_calls == 0, "a refused connection reached no provider"
    assert isinstance(raised.value, ProviderSetupError), "the runner stops on it as on a setup error"


async def test_a_provider_that_answered_once_fails_that_call_only():
    provider = ScriptedProvider(["first answer", REFUSED, REFUSED, REFUSED])
    caller = caller_for(provider)
    assert await ask(caller) == "first answer"
    with pytest.raises(ProviderError, match=r"after 3 attempts") as raised:
        await ask(caller)
    assert not isinstance(raised.value, ProviderSetupError)
    assert caller.provider_calls == 1


async def test_an_error_status_is_a_reached_provider_even_if_later_attempts_are_refused():
    provider = ScriptedProvider([DOWN, REFUSED, REFUSED])
    caller = caller_for(provider)
    with pytest.raises(ProviderError, match=r"^connection refused .* \(after 3 attempts\)$") as raised:
        await ask(caller)
    assert not isinstance(raised.value, ProviderSetupError)
    assert caller.provider_calls == 1, "the 503 was an answer; the refused attempts were not"


async def test_without_retries_the_single_refused_attempt_is_named_as_it_is():
    caller = caller_for(ScriptedProvider([REFUSED]), retries=0)
    with pytest.raises(ProviderUnreachable, match=r"^connection refused to 127.0.0.1:9$"):
        await ask(caller)
