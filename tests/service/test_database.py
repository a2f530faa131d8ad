"""Readers take no write lock on SQLite; writers take it up front; a request reads or writes by its method."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError

from governance.accounts.models import BrowserSession
from governance.accounts.roles import Role
from governance.kernel.db import utcnow
from service.app import create_app
from service.database import READS_ONLY, begin_reading, make_engine, reads_only, session_factory, unit_of_work
from service.migrate import upgrade
from service.settings import Settings
from service.web.sessions import COOKIE_NAME
from tests.factories import auth, make_user
from tests.service.web.test_pages import CSRF


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    upgrade(url)
    engine = make_engine(url, busy_seconds=0)  # a blocked writer fails at once instead of waiting
    yield engine
    engine.dispose()


@pytest.fixture
def write_lock(sqlite_engine) -> Iterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) for the duration."""
    with session_factory(sqlite_engine)() as writer:
        writer.execute(text("SELECT 1"))
        assert not reads_only(writer)
        yield
        writer.rollback()


def test_a_writer_holds_the_lock_that_another_writer_cannot_take(sqlite_engine, write_lock):
    with pytest.raises(OperationalError, match="locked"), unit_of_work(sqlite_engine) as other:
        other.execute(text("SELECT 1"))


def test_a_reader_reads_while_a_writer_holds_the_lock(sqlite_engine, write_lock):
    with session_factory(sqlite_engine)() as reader:
        begin_reading(reader)
        assert reads_only(reader)
        assert reader.execute(select(BrowserSession.id)).all() == []


@pytest.fixture
def app_on(sqlite_engine, tmp_path):
    settings = Settings(database_url=str(sqlite_engine.url), var_dir=tmp_path / "var", executor="none")
    return create_app(settings, engine=sqlite_engine)


@pytest.fixture
async def http(app_on) -> Iterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_on, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as client:
        yield client


@pytest.fixture
def token(sqlite_engine) -> str:
    with unit_of_work(sqlite_engine) as session:
        _, token = make_user(session, Role.product_owner)
    return token


async def test_a_get_answers_while_a_writer_holds_the_lock_and_a_post_waits_its_turn(http, token, write_lock):
    me = await http.get("/api/v1/me", headers=auth(token))
    assert me.status_code == 200
    refused = await http.post(f"/api/v1/users/{me.json()['name']}/tokens?label=ci", headers=auth(token))
    assert refused.status_code >= 500  # busy_timeout=0 here: the writer could not take the lock at once


async def test_a_page_view_writes_a_stale_session_seen_at_in_its_own_transaction(http, token, sqlite_engine):
    page = await http.get("/sign-in")
    signed_in = await http.post("/sign-in", data={"csrf_token": CSRF.search(page.text).group(1), "token": token})
    assert signed_in.status_code == 303 and COOKIE_NAME in http.cookies
    long_ago = utcnow() - timedelta(minutes=30)
    with unit_of_work(sqlite_engine) as session:
        session.execute(text("UPDATE browser_sessions SET last_seen_at = :t"), {"t": long_ago})

    writes_in_readers: list[bool] = []

    @event.listens_for(sqlite_engine, "before_cursor_execute")
    def _watch(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if statement.startswith("UPDATE browser_sessions"):
            writes_in_readers.append(bool(conn.get_execution_options().get(READS_ONLY)))

    response = await http.get("/")

    assert response.status_code == 200
    # Written, and not by the page's own reading transaction (which could fail busy on SQLite).
    assert writes_in_readers == [False]
    with unit_of_work(sqlite_engine) as session:
        seen = session.scalars(select(BrowserSession.last_seen_at)).one()
    assert seen > long_ago + timedelta(minutes=29)


def test_writers_of_one_process_take_turns_before_asking_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    upgrade(url)
    engine = make_engine(url, busy_seconds=5)
    begins: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if statement.startswith("BEGIN"):
            begins.append(f"{threading.current_thread().name}: {statement}")

    second_done = threading.Event()

    def second_writer() -> None:
        with unit_of_work(engine) as session:
            session.execute(text("UPDATE browser_sessions SET last_seen_at = last_seen_at"))
        second_done.set()

    try:
        with unit_of_work(engine) as first:
            first.execute(text("SELECT 1"))
            waiting = threading.Thread(target=second_writer, name="second")
            waiting.start()
            waiting.join(timeout=0.5)
            # the second writer waits for its turn in this process: it has not begun polling SQLite's lock
            assert waiting.is_alive() and begins == ["MainThread: BEGIN IMMEDIATE"]
        waiting.join(timeout=30)
        assert second_done.is_set() and begins[1:] == ["second: BEGIN IMMEDIATE"]
        with pytest.raises(RuntimeError), unit_of_work(engine) as failing:
            failing.execute(text("SELECT 1"))
            raise RuntimeError("a writer that fails rolls back")
        with unit_of_work(engine) as last:  # every turn was handed back, after a commit and after a rollback
            assert last.connection().info["steward_holds_write_turn"] is True
    finally:
        engine.dispose()
