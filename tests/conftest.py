"""Shared fixtures: migrated SQLite and PostgreSQL databases, one rolled-back transaction per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from governance.audit.sealing import ChainKey, install_chain_key
from governance.kernel.unit_of_work import UnitOfWork
from service.database import make_engine
from service.migrate import upgrade


def _own_database_per_worker(url: str, worker: str) -> str:
    """Under ``pytest -n`` each worker process gets a PostgreSQL database of its own, created next to the given one.

    Tests drop and recreate the schema of their database and copy template databases named after it
    (tests/service/workers/conftest.py), so two workers must never share one.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if exists.first() is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


# pytest-xdist names its workers gw0, gw1, ...; every worker also gets a Redis database of its own (15, 14, ...)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and os.environ.get("STEWARD_TEST_POSTGRES_URL"):
    os.environ["STEWARD_TEST_POSTGRES_URL"] = _own_database_per_worker(os.environ["STEWARD_TEST_POSTGRES_URL"], _WORKER)
if _WORKER:
    _redis = os.environ.get("STEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    _db = 15 - int(_WORKER.removeprefix("gw"))
    os.environ["STEWARD_TEST_REDIS_URL"] = _redis.rsplit("/", 1)[0] + f"/{_db}"
POSTGRES_URL = os.environ.get("STEWARD_TEST_POSTGRES_URL")
# The server secret of the `settings` fixture, so the app a test creates seals with the test's chain key.
TEST_SERVER_SECRET = "a server secret for tests only"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """A freshly migrated database: a SQLite file, and PostgreSQL when STEWARD_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'steward.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("STEWARD_TEST_POSTGRES_URL is not set")
        url = POSTGRES_URL
        reset_postgres(url)
    upgrade(url)
    accept_offline_evidence(url)
    return url


def accept_offline_evidence(url: str) -> None:
    """Every test answers from the offline provider; tests of the policy flag that refuses it turn it on."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE policies SET refuse_offline_evidence = :off, offline_evidence_reason = :why"),
            {"off": False, "why": "test database: every run answers from the offline provider"},
        )
    engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine):
    """A connection inside a transaction that is rolled back after the test: nothing a test writes survives."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


def bound_session(connection) -> UnitOfWork:
    # Each commit in the code under test releases a SAVEPOINT inside the test's outer transaction.
    return UnitOfWork(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    )


@pytest.fixture
def session(connection) -> Iterator[UnitOfWork]:
    s = bound_session(connection)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def chain_key() -> Iterator[ChainKey]:
    """Every test seals audit events with the key the app of the `settings` fixture derives, as processes do."""
    key = ChainKey.derive(TEST_SERVER_SECRET.encode("utf-8"))
    install_chain_key(key)
    yield key
    install_chain_key(None)


@pytest.fixture
def settings(tmp_path: Path, database_url: str):
    from pydantic import SecretStr

    from service.settings import Settings

    # Webhook receivers in tests listen on 127.0.0.1, which production refuses by default.
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        max_body_bytes=64 * 1024,
        webhook_allow_private_addresses=True,
        secret_key=SecretStr(TEST_SERVER_SECRET),
    )


@pytest.fixture
def app(settings, engine, connection):
    from service.app import create_app

    application = create_app(settings, engine=engine)
    application.state.session_factory = lambda: bound_session(connection)
    return application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test/api/v1") as http:
        yield http
