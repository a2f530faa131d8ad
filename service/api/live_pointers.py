"""Which release of a product is live, and whether it is stopped, remembered for a moment per process.

Running products revalidate their live release far more often than releases go live or products are stopped, so
the pointer (the live release's number and manifest hash, and the suspension in force) is kept for at most
``STEWARD_LIVE_POINTER_CACHE_SECONDS`` (1 s by default; 0 turns it off). The token is checked on every request.
A suspension, a resumption or a release going live in this process forgets the product's pointer at once and
again when its transaction commits; on other servers it takes effect within the cache's time at most, well
inside the client's own revalidation interval.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

from governance.serving.repository import LivePointer
from governance.serving.suspension import when_pointer_moves

_caches: weakref.WeakSet[PointerCache] = weakref.WeakSet()


class PointerCache:
    """Each product's pointer, remembered for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, LivePointer | None]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, slug: str, read: Callable[[], LivePointer | None]) -> LivePointer | None:
        """The product's pointer: the one remembered if read less than ``seconds`` ago, else read now."""
        if self.seconds <= 0:
            return read()
        entry = self._entries.get(slug)
        now = time.monotonic()
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        pointer = read()
        with self._lock:
            if len(self._entries) >= 10_000:
                self._entries.clear()
            self._entries[slug] = (now, pointer)
        return pointer

    def forget(self, slug: str) -> None:
        with self._lock:
            self._entries.pop(slug, None)


def forget_everywhere(slug: str) -> None:
    for cache in list(_caches):
        cache.forget(slug)


when_pointer_moves(forget_everywhere)
