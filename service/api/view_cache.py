"""Read views remembered per process, and served again while nothing they show can have changed.

Release and product reads are most of an API's traffic (dashboards, CI jobs polling a release, reviewers'
tools), and each view gathers a dozen rows. Every change to what such a view shows appends an audit event in
the change's own transaction (see ``governance.audit.reading.head_seq``), so a view built in a transaction
together with the audit trail's head is current for as long as the head has not moved: a read then costs the
token check, the head and the key lookup, and answers the serialised bytes remembered.

Three limits keep it honest. A view whose facts move without an audit event, a release still testing or with
a run in progress (its case counts grow chunk by chunk), is never remembered. Facts that depend on the clock
(evidence age, a revalidation falling overdue) are rebuilt at least every ``STEWARD_VIEW_CACHE_SECONDS``
(1 s by default; 0 turns the cache off). And the head is read in the same transaction as the view.

Within that same time a read checked that way is answered again on the event loop, without the thread pool or a
query, to a token the check found valid, unless this process has recorded an audit event since (a change made
through this server, or by its embedded executor, counts at once; the hook below sees every event as it is
recorded and again when it commits). So a change committed by another server or a Celery worker shows within
``STEWARD_VIEW_CACHE_SECONDS``, and so does a token revoked or a user disabled elsewhere; revoking a token here
forgets every remembered token at once (``service.api.live_pointers.forget_every_grant``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from governance.accounts.users import authenticate, hash_token
from governance.audit.events import AuditRecorded
from governance.audit.reading import head_seq
from governance.kernel.events import subscribe
from governance.kernel.unit_of_work import UnitOfWork, unit_of
from service.api.deps import request_transaction
from service.api.live_pointers import GrantCache, PointerCache
from service.settings import Settings

# A view as the API sends it, and whether it may be served again while the audit head stays put.
Built = tuple[bytes, bool]

MAX_ENTRIES = 4096
BUILD_STRIPES = 64
# What a remembered token was found valid for: the API's reads (a runtime token never is: they refuse it).
API_READS = "api-reads"

_generation_lock = threading.Lock()
_generation = 0


def audit_generation() -> int:
    """How many audit events this process has seen recorded or committed: it moves with every local change."""
    return _generation


def _bump_generation() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


@subscribe(AuditRecorded)
def _on_audit_recorded(session: Any, recorded: AuditRecorded) -> None:
    # At once (a read racing the change is not answered from memory) and again once it commits (a read that
    # checked the head before the commit is not either).
    _bump_generation()
    unit_of(session).after_commit(_bump_generation)


class ViewCache:
    """Serialised views by key, each with the audit head it was built at and when."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        # One builder per key at a time: when a view falls due, the requests that arrive meanwhile wait for it
        # instead of all gathering the same rows (striped, so the locks do not grow with the keys).
        self._building = [threading.Lock() for _ in range(BUILD_STRIPES)]
        # Answers checked against the audit head, by request path: (checked at, local generation, body).
        self._checked: dict[str, tuple[float, int, bytes]] = {}

    def checked(self, path: str) -> bytes | None:
        """The answer to ``path`` if a full check made it less than ``seconds`` ago and no audit event was
        recorded in this process since."""
        entry = self._checked.get(path)
        if entry is None or self.seconds <= 0:
            return None
        checked_at, generation, body = entry
        if generation != audit_generation() or time.monotonic() - checked_at >= self.seconds:
            return None
        return body

    def forget_answers(self) -> None:
        """Every path's remembered answer: the next read of each is checked against the audit head again."""
        with self._lock:
            self._checked.clear()

    def remember_checked(self, path: str, generation: int, body: bytes) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._checked) >= MAX_ENTRIES:
                self._checked.clear()
            self._checked[path] = (time.monotonic(), generation, body)

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


async def read_view(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    key_of: Callable[[UnitOfWork], Hashable],
    build: Callable[[UnitOfWork, Hashable], Built],
) -> Response:
    """A view read: from memory on the event loop when it may be (``remembered_answer``), else checked against the
    audit head in one trip to the thread pool (``cached_json``)."""
    remembered = remembered_answer(request, credentials)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(cached_json, request, credentials, key_of, build)


def cached_json(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    key_of: Callable[[UnitOfWork], Hashable],
    build: Callable[[UnitOfWork, Hashable], Built],
) -> Response:
    """Authenticate, find the view's key, and answer the view current at the audit head, in one transaction.

    Called from the thread pool once per request (not once per dependency): on a hit that is three statements.
    A view that is remembered is also remembered as this path's answer, for ``remembered_answer``.
    """
    memory = edge_memory(request)
    generation = audit_generation()
    with request_transaction(request) as session:
        authenticate(session, credentials.credentials if credentials else None)
        key = key_of(session)
        head = head_seq(session)
        remembered: list[bool] = []

        def build_and_note() -> Built:
            built = build(session, key)
            remembered.append(built[1])
            return built

        body = memory.views.get(key, head, build_and_note)
    if credentials is not None and remembered != [False]:
        memory.view_grants.remember(hash_token(credentials.credentials), API_READS)
        memory.views.remember_checked(request.url.path, generation, body)
    return Response(body, media_type="application/json")


def remembered_answer(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Response | None:
    """This path's answer from memory, on the event loop, if a full check made it and found the token valid within
    ``STEWARD_VIEW_CACHE_SECONDS`` and nothing was recorded in this process since; else None."""
    if credentials is None:
        return None
    memory = edge_memory(request)
    body = memory.views.checked(request.url.path)
    if body is None or not memory.view_grants.allows(hash_token(credentials.credentials), API_READS):
        return None
    return Response(body, media_type="application/json")


@dataclass(frozen=True)
class EdgeMemory:
    """What one server remembers between requests, made with the app from its settings (``create_app``)."""

    live_pointers: PointerCache
    """Each product's live pointer (``service.api.live_pointers``)."""
    live_grants: GrantCache
    """(token, product) pairs a live fetch's full check allowed."""
    views: ViewCache
    """Release and product views, and the answers checked against the audit head."""
    view_grants: GrantCache
    """Tokens a view read's full check found valid."""

    @classmethod
    def of(cls, settings: Settings) -> EdgeMemory:
        live, views = settings.live_pointer_cache_seconds, settings.view_cache_seconds
        return cls(PointerCache(live), GrantCache(live), ViewCache(views), GrantCache(views))


def edge_memory(request: Request) -> EdgeMemory:
    memory: EdgeMemory = request.app.state.edge_memory
    return memory
