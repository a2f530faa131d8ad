"""Per-provider rate limits: requests and tokens per minute, as token buckets that refill smoothly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from evals.messages import Message


class _Bucket:
    """A bucket holding at most one second of budget, refilled continuously.

    One second, not one minute: a full minute's burst at start-up is what trips provider limits.
    A request larger than the bucket may run it into debt, which later requests wait off.
    """

    def __init__(self, per_minute: float, now: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        needed = min(amount, self.capacity)
        return 0.0 if self.level >= needed else (needed - self.level) / self.rate


class RateLimiter:
    """Waits so that requests and (estimated) tokens stay under their per-minute limits."""

    def __init__(
        self,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create a limiter; a limit of None is no limit.

        Args:
            requests_per_minute: Requests allowed per minute.
            tokens_per_minute: Prompt plus completion tokens allowed per minute.
            clock: Monotonic clock, replaceable in tests.
            sleep: Async sleep, replaceable in tests.
        """
        now = clock()
        self._requests = _Bucket(requests_per_minute, now) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute, now) if tokens_per_minute else None
        self._clock = clock
        self._sleep = sleep
        # one waiter at a time keeps the order fair and the arithmetic simple
        self._lock = asyncio.Lock()

    async def acquire(self, estimated_tokens: int) -> None:
        """Wait until one request of about ``estimated_tokens`` tokens fits, then take its budget."""
        async with self._lock:
            while True:
                now = self._clock()
                delay = 0.0
                for bucket, amount in ((self._requests, 1.0), (self._tokens, float(estimated_tokens))):
                    if bucket is not None:
                        bucket.refill(now)
                        delay = max(delay, bucket.wait_for(amount))
                if delay <= 0:
                    break
                await self._sleep(delay)
            if self._requests is not None:
                self._requests.level -= 1.0
            if self._tokens is not None:
                self._tokens.level -= estimated_tokens

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token budget once the provider has said how many tokens a call really used."""
        if self._tokens is not None:
            self._tokens.level -= actual_tokens - estimated_tokens


def estimate_tokens(messages: Sequence[Message], max_tokens: int | None) -> int:
    """A cheap upper-ish estimate: four characters a token for the prompt, plus the answer's limit."""
    chars = sum(len(m["content"]) for m in messages)
    return chars // 4 + 4 * len(messages) + (max_tokens or 256)
