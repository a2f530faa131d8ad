"""Production feedback, sent in the background in batches so that an employee's request never waits on Steward."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

# One batch request carries at most this many items (the server accepts up to 500).
BATCH_SIZE = 200


class FeedbackSender:
    """Queues feedback per product and posts it to ``POST /products/{slug}/feedback/batch`` from a thread.

    The queue is bounded: when Steward is unreachable for long, the oldest items are dropped (and counted in
    ``dropped``) rather than the application's memory growing without end. Items a batch could not deliver
    (network error, 5xx) stay queued for the next attempt; a batch Steward refuses (4xx) is dropped and counted
    in ``refused``, with the reason in ``last_error``: sending it again would be refused again.
    """

    def __init__(self, post: Callable[[str, dict[str, Any]], httpx.Response], *, interval: float, limit: int) -> None:
        self._post = post
        self._interval = interval
        self._limit = limit
        self._queues: dict[str, deque[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self.sent = 0
        self.dropped = 0
        self.refused = 0
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None

    def add(self, product: str, item: dict[str, Any]) -> None:
        with self._lock:
            self._queues.setdefault(product, deque()).append(item)
            self._trim()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="steward-feedback", daemon=True)
                self._thread.start()

    def _trim(self) -> None:
        # Over the limit, the oldest items of the longest queue go first.
        while self.pending > self._limit:
            max(self._queues.values(), key=len).popleft()
            self.dropped += 1

    @property
    def pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def flush(self) -> bool:
        """Send everything queued now, in this thread; True when nothing is left to send."""
        for product in list(self._queues):
            while True:
                with self._lock:
                    queue = self._queues[product]
                    batch = [queue.popleft() for _ in range(min(BATCH_SIZE, len(queue)))]
                if not batch:
                    break
                if not self._send(product, batch):
                    with self._lock:  # put them back in front, for the next attempt
                        self._queues[product].extendleft(reversed(batch))
                        self._trim()
                    return False
        return True

    def _send(self, product: str, batch: list[dict[str, Any]]) -> bool:
        """Post one batch; False when it should be sent again later (unreachable, or a server error)."""
        try:
            response = self._post(f"/products/{product}/feedback/batch", {"items": batch})
        except httpx.HTTPError as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        if response.status_code >= 500:
            self.last_error = f"Steward answered {response.status_code}"
            return False
        if response.is_success:
            self.sent += len(batch)
        else:
            self.refused += len(batch)
            self.last_error = f"Steward refused {len(batch)} item(s) ({response.status_code}): {response.text[:300]}"
        return True

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (best effort, once), then stop the thread."""
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()
