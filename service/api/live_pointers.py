"""Which release of a product is live, and whether it is stopped, and which tokens may fetch it, remembered for a
moment per process.

Running products revalidate their live release far more often than releases go live or products are stopped, so
the pointer (the live release's number and manifest hash, and the suspension in force) is kept for at most
``STEWARD_LIVE_POINTER_CACHE_SECONDS`` (1 s by default; 0 turns it off). A suspension, a resumption or a release
going live in this process forgets the product's pointer at once and again when its transaction commits; on
other servers it takes effect within the cache's time at most, well inside the client's own revalidation
interval.

So is the grant a full check gave a token for a product (the token is valid, its user enabled, and a runtime
user serves that product): within the same time, a conditional fetch whose pointer and grant are both
remembered is answered 304 on the event loop with no query at all. Revoking a token in this process forgets
every grant at once; a token revoked or a user disabled elsewhere stops being honoured within the cache's time.
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

    def peek(self, slug: str) -> LivePointer | None:
        """The product's pointer if one was read less than ``seconds`` ago, else None (nothing is read)."""
        entry = self._entries.get(slug)
        if entry is None or self.seconds <= 0 or time.monotonic() - entry[0] >= self.seconds:
            return None
        return entry[1]

    def forget(self, slug: str) -> None:
        with self._lock:
            self._entries.pop(slug, None)


class GrantCache:
    """(token hash, product) pairs a full check allowed, each remembered for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._granted: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        _grants.add(self)

    def remember(self, token_hash: str, slug: str) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._granted) >= 10_000:
                self._granted.clear()
            self._granted[(token_hash, slug)] = time.monotonic()

    def allows(self, token_hash: str, slug: str) -> bool:
        granted_at = self._granted.get((token_hash, slug))
        return granted_at is not None and time.monotonic() - granted_at < self.seconds

    def forget_all(self) -> None:
        with self._lock:
            self._granted.clear()


_grants: weakref.WeakSet[GrantCache] = weakref.WeakSet()


def forget_every_grant() -> None:
    """A token was revoked: no grant remembered in this process is honoured again without a full check."""
    for cache in list(_grants):
        cache.forget_all()


def forget_everywhere(slug: str) -> None:
    for cache in list(_caches):
        cache.forget(slug)


when_pointer_moves(forget_everywhere)
