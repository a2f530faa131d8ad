"""A database that cannot serve a request is a 503 with Retry-After, not a 500; other database errors stay 500s.

tests/service/api/test_database_outage.py stops a real PostgreSQL; these are the quick cases: SQLite's
own "database is locked", and each kind of error the handler tells apart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from governance.accounts.roles import Role
from service.app import create_app
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import Settings
from service.web.routing import WebRoute
from tests.factories import auth, make_user, product_payload


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A migrated SQLite file with a product owner; yields its path and the owner's token."""
    path = tmp_path / "steward.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with unit_of_work(engine) as session:
        _, token = make_user(session, Role.product_owner)
    engine.dispose()
    yield str(path), token


async def test_a_locked_sqlite_database_is_a_503_and_nothing_is_written(database, tmp_path):
    path, token = database
    # Gives up on the lock at once, where the server's own engine would wait 30 s for it.
    impatient = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    app = create_app(
        Settings(database_url=f"sqlite:///{path}", var_dir=tmp_path / "var", executor="none"), engine=impatient
    )
    holder = sqlite3.connect(path, isolation_level=None)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://steward.test/api/v1") as client:
            holder.execute("BEGIN EXCLUSIVE")
            locked = await client.post("/products", json=product_payload(), headers=auth(token))
            holder.execute("ROLLBACK")
            assert locked.status_code == 503, locked.text
            assert locked.headers["content-type"] == "application/problem+json"
            assert locked.headers["retry-after"] == "5"
            assert locked.json()["detail"].startswith("the database is unavailable or busy")
            assert (await client.get("/products/goal-coach", headers=auth(token))).status_code == 404
            retried = await client.post("/products", json=product_payload(), headers=auth(token))
            assert retried.status_code == 201, retried.text
    finally:
        holder.close()
        impatient.dispose()


def _raising(error: Exception, var_dir: Path) -> FastAPI:
    app = create_app(Settings(database_url="sqlite://", var_dir=var_dir, executor="none"))
    api, web = APIRouter(), APIRouter(route_class=WebRoute)

    def fail() -> None:
        raise error

    api.add_api_route("/api/v1/failing", fail)
    web.add_api_route("/failing-page", fail)
    app.include_router(api)
    app.include_router(web)
    return app


def _orig() -> Exception:
    return Exception("server closed the connection unexpectedly")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OperationalError("SELECT 1", {}, _orig()), 503),
        (InterfaceError("SELECT 1", {}, _orig()), 503),
        (DBAPIError("SELECT 1", {}, _orig(), connection_invalidated=True), 503),
        (IntegrityError("INSERT", {}, Exception("duplicate key")), 500),
        (DBAPIError("SELECT 1", {}, Exception("a bug of ours")), 500),
    ],
)
async def test_only_errors_of_an_unavailable_database_are_503s(error, status, tmp_path):
    transport = httpx.ASGITransport(app=_raising(error, tmp_path / "var"), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as client:
        api = await client.get("/api/v1/failing")
        page = await client.get("/failing-page")
    assert api.status_code == status and api.headers["content-type"] == "application/problem+json"
    assert ("retry-after" in api.headers) == (status == 503)
    assert page.status_code == status
    if status == 503:
        assert page.headers["content-type"].startswith("text/html") and "Temporarily unavailable" in page.text
        assert page.headers["retry-after"] == "5"
