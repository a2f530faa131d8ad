"""Out of database connections, a request is answered 503 with Retry-After within the pool timeout: never a hang."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.responses import PlainTextResponse

from governance.accounts.roles import Role
from service.api.admission import DatabaseAdmission
from service.app import create_app
from service.database import unit_of_work
from service.migrate import upgrade
from service.settings import Settings
from tests.factories import auth, make_user


@pytest.fixture
def tiny_pool_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url, var_dir=tmp_path / "var", executor="none", db_pool_size=1, db_pool_timeout_seconds=0.2
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


async def test_an_exhausted_pool_answers_503_with_retry_after(tiny_pool_app):
    engine = tiny_pool_app.state.engine
    with unit_of_work(engine) as session:
        _, token = make_user(session, Role.reviewer)
    held = [engine.connect() for _ in range(engine.pool.size())]  # every connection the pool has
    try:
        transport = httpx.ASGITransport(app=tiny_pool_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
            with anyio.fail_after(20):  # a hang fails the test instead of stalling it
                response = await http.get("/api/v1/me", headers=auth(token))
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.headers["content-type"] == "application/problem+json"
            assert "retry" in response.json()["detail"]
    finally:
        for connection in held:
            connection.close()
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        assert (await http.get("/api/v1/me", headers=auth(token))).status_code == 200


async def test_requests_beyond_the_limit_wait_their_turn_then_get_503():
    inside = anyio.Event()
    leave = anyio.Event()

    async def slow_app(scope, receive, send) -> None:
        if scope["path"] != "/healthz":
            inside.set()
            await leave.wait()
        await PlainTextResponse("done")(scope, receive, send)

    admission = DatabaseAdmission(slow_app, limit=1, timeout=0.2)
    transport = httpx.ASGITransport(app=admission)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        results: dict[str, httpx.Response] = {}

        async def first() -> None:
            results["first"] = await http.get("/api/v1/products")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await inside.wait()
            turned_away = await http.get("/api/v1/products")
            health = await http.get("/healthz")  # liveness needs no turn
            leave.set()
    assert turned_away.status_code == 503 and turned_away.headers["retry-after"] == "1"
    assert results["first"].status_code == 200
    assert health.status_code == 200


async def test_reads_have_their_own_lane_beside_writes_waiting_for_their_turn():
    inside = anyio.Event()
    leave = anyio.Event()

    async def slow_writes(scope, receive, send) -> None:
        if scope["method"] == "PUT":
            inside.set()
            await leave.wait()
        await PlainTextResponse("done")(scope, receive, send)

    admission = DatabaseAdmission(slow_writes, limit=3, write_limit=1, timeout=0.2)
    transport = httpx.ASGITransport(app=admission)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        results: dict[str, httpx.Response] = {}

        async def first_write() -> None:
            results["write"] = await http.put("/api/v1/documents/policy", content=b"{}")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first_write)
            await inside.wait()
            second_write = await http.post("/api/v1/products", content=b"{}")  # the write lane is full
            reads = [await http.get("/api/v1/products") for _ in range(3)]  # the read lane is not
            leave.set()
    assert second_write.status_code == 503 and second_write.headers["retry-after"] == "1"
    assert [r.status_code for r in reads] == [200, 200, 200]
    assert results["write"].status_code == 200


def test_writes_never_take_every_turn_and_one_connection_is_one_shared_lane():
    async def app(scope, receive, send) -> None:  # pragma: no cover - never called
        raise AssertionError

    default = DatabaseAdmission(app, limit=8, write_limit=2, timeout=1)
    assert (default.read_limit, default.write_limit) == (6, 2)
    split = DatabaseAdmission(app, limit=2, write_limit=5, timeout=1)
    assert (split.read_limit, split.write_limit) == (1, 1)
    shared = DatabaseAdmission(app, limit=1, write_limit=1, timeout=1)
    assert (shared.read_limit, shared.write_limit) == (1, 0)
