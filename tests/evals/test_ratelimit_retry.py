"""Rate limits hold requests and tokens per minute; backoff grows, is jittered and honours Retry-After."""

from __future__ import annotations

import random

from evals.providers import ProviderError
from evals.ratelimit import RateLimiter
from evals.retry import RetryPolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_requests_per_minute_spaces_requests():
    clock = FakeClock()
    limiter = RateLimiter(60, None, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await limiter.acquire(0)
    assert clock.now == 4.0  # one a second after the first


async def test_tokens_per_minute_waits_for_budget_and_settles():
    clock = FakeClock()
    limiter = RateLimiter(None, 600, clock=clock, sleep=clock.sleep)  # 10 tokens a second
    await limiter.acquire(10)
    await limiter.acquire(10)
    assert clock.now == 1.0
    limiter.settle(10, 40)  # the call really used 40: 30 more owed
    await limiter.acquire(10)
    assert clock.now == 5.0


def test_backoff_is_exponential_with_jitter_and_capped():
    policy = RetryPolicy(max_retries=5, initial_s=1.0, max_s=8.0, rng=random.Random(1))
    error = ProviderError("503", retryable=True)
    delays = [policy.delay(n, error) for n in range(5)]
    for n, delay in enumerate(delays):
        step = min(8.0, 2**n)
        assert step / 2 <= delay <= step
    assert len(set(delays)) == len(delays)


def test_retry_after_is_a_floor_and_non_retryable_errors_stop():
    policy = RetryPolicy(max_retries=2, initial_s=0.01, max_s=60.0)
    assert 5.0 <= policy.delay(0, ProviderError("429", retryable=True, retry_after=5.0)) <= 5.5
    assert not policy.should_retry(0, ProviderError("400", retryable=False))
    assert policy.should_retry(1, ProviderError("500", retryable=True))
    assert not policy.should_retry(2, ProviderError("500", retryable=True))
