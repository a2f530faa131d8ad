"""The content-addressed response cache: same provider, model, parameters and messages, same answer.

:class:`ResponseCache` is a Protocol so the server can back it by its database; its methods may be
plain or ``async``. :class:`SQLiteResponseCache` is the local default: writes are buffered and
committed in batches because a commit per answer costs more than the answer's whole bookkeeping.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import NotRequired, Protocol, TypedDict, runtime_checkable

from evals.messages import Message


class CachedAnswer(TypedDict):
    """A cached provider answer, JSON-ready; entries may lack the counts (they then read as 0 / unknown)."""

    text: str
    prompt_tokens: NotRequired[int]
    completion_tokens: NotRequired[int]
    cost_usd: NotRequired[float | None]
    latency_ms: NotRequired[float]


def cache_key(provider: str, model: str, parameters: Mapping[str, object], messages: Sequence[Message]) -> str:
    """sha256 over provider, model, parameters and rendered messages (canonical JSON).

    Args:
        provider: Provider name, e.g. ``openai``.
        model: Model name.
        parameters: Everything else that changes the answer (temperature, max_tokens, seed, sample index).
        messages: The rendered chat messages.
    """
    canonical = json.dumps(
        [provider, model, parameters, messages],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@runtime_checkable
class ResponseCache(Protocol):
    """Stores provider answers by key. ``get``/``put`` may return awaitables (database-backed caches).

    Values are :class:`CachedAnswer` mappings: ``text``, ``prompt_tokens``, ``completion_tokens``,
    ``cost_usd``, ``latency_ms``.
    """

    def get(self, key: str) -> CachedAnswer | Awaitable[CachedAnswer | None] | None:
        """The stored answer for ``key``, or None."""
        ...

    def put(self, key: str, value: CachedAnswer) -> Awaitable[None] | None:
        """Store an answer under ``key``."""
        ...


class MemoryResponseCache:
    """A cache in a dict: for tests and for callers that keep answers only for one process."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedAnswer] = {}

    def get(self, key: str) -> CachedAnswer | None:
        """The stored answer, or None."""
        return self.entries.get(key)

    def put(self, key: str, value: CachedAnswer) -> None:
        """Store an answer."""
        self.entries[key] = value


class SQLiteResponseCache:
    """A cache in one SQLite file; safe to share between runs and processes (WAL mode)."""

    def __init__(self, path: str | Path, *, batch_size: int = 200) -> None:
        """Open (and create) the cache file.

        Args:
            path: The SQLite file; its folder is created if missing.
            batch_size: Answers buffered before a commit; ``flush``/``close`` commit the rest.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
        )
        self._pending: dict[str, str] = {}
        self._batch_size = batch_size

    def get(self, key: str) -> CachedAnswer | None:
        """The stored answer, or None."""
        raw = self._pending.get(key)
        if raw is None:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            raw = row[0]
        answer: CachedAnswer = json.loads(raw)  # written by put, so it has the shape put was given
        return answer

    def put(self, key: str, value: CachedAnswer) -> None:
        """Buffer an answer; committed with the next batch."""
        self._pending[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if len(self._pending) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Commit buffered answers."""
        if not self._pending:
            return
        now = time.time()
        rows = [(k, v, now) for k, v in self._pending.items()]
        self._pending.clear()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT count(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Commit and close the file."""
        self.flush()
        self._db.close()
