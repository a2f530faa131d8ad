"""Retrying failed model calls: exponential backoff with jitter, honouring Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from evals.providers import ProviderError


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait between attempts.

    Attributes:
        max_retries: Retries after the first attempt.
        initial_s: Base delay before the first retry; doubles with each further one.
        max_s: Cap on any single wait, Retry-After included.
        rng: Source of jitter (seedable in tests).
    """

    max_retries: int = 4
    initial_s: float = 1.0
    max_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, retry_number: int, error: ProviderError) -> float:
        """Seconds to wait before retry ``retry_number`` (0-based) after ``error``.

        A server's Retry-After is a floor (plus up to 10% jitter so waiting clients do not return
        in lockstep); otherwise "equal jitter": half the exponential step fixed, half random.
        """
        if error.retry_after is not None:
            return min(self.max_s, error.retry_after * (1.0 + 0.1 * self.rng.random()))
        step: float = min(self.max_s, self.initial_s * (2**retry_number))
        return step / 2 + self.rng.uniform(0, step / 2)

    def should_retry(self, retry_number: int, error: ProviderError) -> bool:
        """Whether to try again after ``error`` when ``retry_number`` retries were made already."""
        return error.retryable and retry_number < self.max_retries
