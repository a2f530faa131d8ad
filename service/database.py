"""Engines, sessions and units of work. The edges open a transaction; domain functions only flush."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from governance.kernel.unit_of_work import DEFAULT_CHUNK_SIZE, UnitOfWork
from service.settings import PRIVATE_FILE_MODE, make_private_dir

# How long a writer waits for SQLite's write lock before it fails with "database is locked".
SQLITE_BUSY_SECONDS = 30.0


def make_engine(url: str, *, busy_seconds: float = SQLITE_BUSY_SECONDS, **kwargs: Any) -> Engine:
    """An engine for SQLite or PostgreSQL with the settings Steward relies on.

    ``busy_seconds``: on SQLite, how long a writer waits for its turn and then for the write lock.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        # Created private (0700 directory, 0600 file) before SQLite opens it; its -wal and -shm files
        # take the database file's mode. An existing file keeps whatever mode its owner gave it.
        database = Path(parsed.database)
        make_private_dir(database.parent)
        if not database.exists():
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_seconds}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so SAVEPOINTs and the write lock below behave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.close()

    # Writers of this process take turns on a lock of their own before SQLite's: a writer waiting in SQLite's busy
    # handler polls, sleeping up to 100 ms between tries, so under load the write lock sat free between writers
    # while they slept. A thread waiting here is woken the moment the previous writer ends. SQLite's lock and its
    # busy timeout still arbitrate between processes (the CLI, a second server).
    write_turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READS_ONLY):
            # A reader takes no lock: WAL lets it read its snapshot while one writer writes.
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        # A writer takes the write lock up front: a deferred transaction that later writes can fail with
        # SQLITE_BUSY instead of waiting, and serialised writers keep the audit chain linear.
        # Bounded like SQLite's own wait: past it, SQLite's busy timeout decides (and reports "database is locked").
        holds_turn = write_turn.acquire(timeout=busy_seconds) if busy_seconds > 0 else write_turn.acquire(False)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if holds_turn:
                write_turn.release()
            raise
        connection.info[_HOLDS_WRITE_TURN] = holds_turn

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection: Connection) -> None:
        if connection.info.pop(_HOLDS_WRITE_TURN, False):
            write_turn.release()

    return engine


# Marks a connection whose transaction holds its engine's turn to write (see ``make_engine``).
_HOLDS_WRITE_TURN = "steward_holds_write_turn"


# Marks a transaction that only reads (see ``begin_reading``): on SQLite it begins DEFERRED, not IMMEDIATE.
READS_ONLY = "steward_reads_only"


def begin_reading(session: UnitOfWork) -> None:
    """Begin ``session``'s transaction as one that only reads: on SQLite it takes no write lock.

    Call it before the session's first query. A reader that writes after all may fail with SQLITE_BUSY when
    another writer committed since it began, so work that may write must not begin this way.
    """
    session.connection(execution_options={READS_ONLY: True})


def reads_only(session: UnitOfWork) -> bool:
    """Whether ``session``'s transaction was begun by ``begin_reading``."""
    return bool(session.connection().get_execution_options().get(READS_ONLY))


@lru_cache(maxsize=8)
def engine_for(url: str, *, pool_size: int | None = None, pool_timeout: float | None = None) -> Engine:
    """One engine per URL and pool shape. Without a pool shape it is SQLAlchemy's default (CLI, migrations)."""
    if pool_size is None or make_url(url).database in (None, "", ":memory:"):
        return make_engine(url)  # an in-memory SQLite database lives in its one connection: no pool to size
    # Every connection comes from the pool: none is opened beyond it, and a caller waits at most pool_timeout.
    return make_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout or 30.0)


def session_factory(engine: Engine | Connection, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> sessionmaker[UnitOfWork]:
    return sessionmaker(bind=engine, class_=UnitOfWork, expire_on_commit=False, autoflush=False, chunk_size=chunk_size)


@contextmanager
def unit_of_work(engine: Engine | Connection) -> Iterator[UnitOfWork]:
    """One transaction: commit when the block succeeds, roll back when it raises.

    A Connection (tests) binds the session to it: its outer transaction is joined, not committed.
    """
    with transaction(session_factory(engine)) as session:
        yield session


@contextmanager
def transaction(factory: Callable[[], UnitOfWork]) -> Iterator[UnitOfWork]:
    """A session from ``factory`` for one transaction: committed on success, rolled back on any error, closed."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
