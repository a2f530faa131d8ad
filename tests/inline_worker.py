"""Runs queued chunks through the workers' own code path, inside the test's transaction.

``execute_chunk_with`` is what the embedded executor and Celery workers run; here its units of work are
sessions bound to the test's connection (each commit releases a savepoint), so what a worker writes is
rolled back with the test like everything else.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from governance.kernel.unit_of_work import UnitOfWork
from service.settings import Settings
from service.workers.execute import execute_chunk_with


def run_queued_chunks(session: Session, worker: str = "inline-test-worker", limit: int = 1000) -> int:
    """Lease and run every queued chunk with its real provider (the offline one in these tests); returns how many."""
    session.flush()
    connection = session.connection()

    def unit() -> UnitOfWork:
        return UnitOfWork(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        )

    settings = Settings()
    ran = 0
    # A thread of its own: async tests call this from inside their event loop, and a worker runs its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        while ran < limit and pool.submit(execute_chunk_with, unit, None, worker, settings).result():
            ran += 1
    # The workers wrote through sessions of their own: what this session holds may be stale now.
    session.expire_all()
    return ran
