"""Read views remembered per process, and served again while nothing they show can have changed.

Release and product reads are most of an API's traffic (dashboards, CI jobs polling a release, reviewers'
tools), and each view gathers a dozen rows. Every change to what such a view shows appends an audit event in
the change's own transaction (see ``governance.audit.reading.head_seq``), so a view built in a transaction
together with the audit trail's head is current for as long as the head has not moved: a read then costs the
token check, the head and the key lookup, and answers the serialised bytes remembered.

Three limits keep it honest. A view whose facts move without an audit event, a release still testing or with
a run in progress (its case counts grow chunk by chunk), is never remembered. Facts that depend on the clock
(evidence age, a revalidation falling overdue) are rebuilt at least every ``STEWARD_VIEW_CACHE_SECONDS``
(1 s by default; 0 turns the cache off). And the head is read in the same transaction as the view, so one
server's cache is invalidated by a change another server or a worker commits as soon as it commits.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from fastapi import Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from governance.accounts.users import authenticate
from governance.audit.reading import head_seq
from governance.kernel.unit_of_work import UnitOfWork
from service.api.deps import request_transaction

# A view as the API sends it, and whether it may be served again while the audit head stays put.
Built = tuple[bytes, bool]

MAX_ENTRIES = 4096
BUILD_STRIPES = 64


class ViewCache:
    """Serialised views by key, each with the audit head it was built at and when."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        # One builder per key at a time: when a view falls due, the requests that arrive meanwhile wait for it
        # instead of all gathering the same rows (striped, so the locks do not grow with the keys).
        self._building = [threading.Lock() for _ in range(BUILD_STRIPES)]

    def get(self, key: Hashable, head: int, build: Callable[[], Built]) -> bytes:
        """The view remembered under ``key`` if built at audit head ``head`` less than ``seconds`` ago, else
        ``build()``'s, remembered when it says it may be."""
        if self.seconds <= 0:
            return build()[0]
        remembered = self._current(key, head)
        if remembered is not None:
            return remembered
        with self._building[hash(key) % BUILD_STRIPES]:
            remembered = self._current(key, head)
            if remembered is not None:
                return remembered
            built_at = time.monotonic()
            body, cacheable = build()
            with self._lock:
                if cacheable:
                    self._entries[key] = (built_at, head, body)
                    self._entries.move_to_end(key)
                    while len(self._entries) > MAX_ENTRIES:
                        self._entries.popitem(last=False)
                else:
                    self._entries.pop(key, None)
        return body

    def _current(self, key: Hashable, head: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[1] == head and time.monotonic() - entry[0] < self.seconds:
            return entry[2]
        return None


def cached_json(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    key_of: Callable[[UnitOfWork], Hashable],
    build: Callable[[UnitOfWork, Hashable], Built],
) -> Response:
    """Authenticate, find the view's key, and answer the view current at the audit head, in one transaction.

    Called from the thread pool once per request (not once per dependency): on a hit that is three statements.
    """
    with request_transaction(request) as session:
        authenticate(session, credentials.credentials if credentials else None)
        key = key_of(session)
        head = head_seq(session)
        body = _cache(request).get(key, head, lambda: build(session, key))
    return Response(body, media_type="application/json")


def _cache(request: Request) -> ViewCache:
    cache: ViewCache | None = getattr(request.app.state, "view_cache", None)
    if cache is None:
        cache = request.app.state.view_cache = ViewCache(request.app.state.settings.view_cache_seconds)
    return cache
