"""The unit of work: one session and one transaction, with what that transaction collects along the way.

The edges (an API request, a CLI command, a worker job) open one unit of work and commit or roll it back;
domain functions only flush. What a transaction gathers for later (run chunks to hand to workers once they
are committed, the audit chain's head while many events are appended, the enabled webhooks read once) lives
in typed attributes here instead of in ``Session.info`` under string keys. Hooks registered with
``after_commit`` run once the transaction has committed, and are dropped when it rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

DEFAULT_CHUNK_SIZE = 50


@dataclass
class AuditBatch:
    """The audit chain's state while one block appends many events (see ``governance.audit.trail.appending``)."""

    # (seq, hash) of the newest event appended so far; None until read, and again after a savepoint rollback.
    head: tuple[int, str] | None = None
    # Primary keys taken ahead from PostgreSQL's sequence, so the batch inserts without RETURNING.
    ids: list[int] = field(default_factory=list)


WebhookRoute = tuple[int, int | None, frozenset[str]]


@dataclass
class DeferredCuts:
    """Products whose release waits for the end of a batch of changes (one bundle), and what changed them.

    The values are the releases package's products and causes; the kernel only keeps them for it.
    """

    products: dict[int, Any] = field(default_factory=dict)
    causes: list[dict[str, Any]] = field(default_factory=list)


class UnitOfWork(Session):
    """A session that is one unit of work. Create it with ``sessionmaker(class_=UnitOfWork)``."""

    def __init__(self, *args: Any, chunk_size: int = DEFAULT_CHUNK_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chunk_size = chunk_size
        """Cases per run chunk for runs queued in this unit of work (``STEWARD_CHUNK_SIZE``)."""
        self.queued_chunks: list[int] = []
        """Run chunks queued by this transaction: handed to workers only after it commits."""
        self.audit_batch: AuditBatch | None = None
        """Set while an ``appending`` block writes many audit events."""
        self.active_webhooks: tuple[SessionTransaction, list[WebhookRoute]] | None = None
        """Enabled webhooks (id, product id, event types), read once per transaction."""
        self.deferred_cuts: DeferredCuts | None = None
        """Set while a batch of changes waits to cut one release per affected product at its end."""
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the current transaction has committed; dropped if it rolls back."""
        self._after_commit.append(hook)

    @contextmanager
    def rehearsal(self) -> Iterator[None]:
        """Run a block exactly as it would run, then undo it: its rows, queued chunks and after-commit hooks.

        A plan is the change itself, rehearsed: it cannot drift from what the real change would do.
        """
        queued, hooks, deferred = len(self.queued_chunks), len(self._after_commit), self.deferred_cuts
        savepoint = self.begin_nested()
        try:
            yield
        finally:
            savepoint.rollback()
            del self.queued_chunks[queued:]
            del self._after_commit[hooks:]
            self.deferred_cuts = deferred

    def take_queued_chunks(self) -> list[int]:
        """The chunk ids queued so far, handed over once: the list is emptied."""
        queued, self.queued_chunks = self.queued_chunks, []
        return queued


def unit_of(session: Session) -> UnitOfWork:
    """``session`` as the unit of work it is; every session the edges and tests open is one."""
    if not isinstance(session, UnitOfWork):
        raise TypeError("open sessions as units of work: sessionmaker(class_=UnitOfWork) or UnitOfWork(bind=...)")
    return session


@event.listens_for(UnitOfWork, "after_commit")
def _run_after_commit_hooks(session: Session) -> None:
    work = unit_of(session)
    hooks, work._after_commit = work._after_commit, []
    for hook in hooks:
        hook()


@event.listens_for(UnitOfWork, "after_soft_rollback")
def _drop_after_commit_hooks(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only the whole transaction's rollback undoes what it collected: a savepoint rolled back inside it (a
    # tolerated duplicate insert, say) leaves the rest of the transaction, and what it queued, in place.
    if previous_transaction.parent is not None:
        return
    work = unit_of(session)
    work._after_commit = []
    work.queued_chunks = []
    work.deferred_cuts = None
