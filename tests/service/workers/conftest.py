"""Fixtures for executors: databases that several threads and processes share, and a slow fake model server.

The shared fixtures in tests/conftest.py roll every test back inside one connection, which no other
thread or process can see. Executors need committed data, so each test here gets a database of its
own: a migrated SQLite file, or (with STEWARD_TEST_POSTGRES_URL) a PostgreSQL database created next to
the test database from a migrated template, because tests/conftest.py resets the test database's schema.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from governance.accounts.roles import Role
from governance.catalog import components, products
from governance.catalog.schemas import ModelSettings, ProductCreate, PromptPublish, SuitePublish
from governance.releases.models import Release
from governance.runs.models import CaseResultRow, Run, RunChunk
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from tests.conftest import POSTGRES_URL
from tests.factories import make_user, suite_spec

# Named after the test database, so test runs against different databases of one server never collide.
_BASE = make_url(POSTGRES_URL).database if POSTGRES_URL else "steward"
WORKERS_DB = f"{_BASE}_workers_test"
TEMPLATE_DB = f"{_BASE}_workers_template"


def _postgres_admin(url: str) -> Engine:
    return make_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is copied from (CREATE DATABASE ... TEMPLATE)."""
    if not POSTGRES_URL:
        pytest.skip("STEWARD_TEST_POSTGRES_URL is not set")
    admin = _postgres_admin(POSTGRES_URL)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
    url = make_url(POSTGRES_URL).set(database=TEMPLATE_DB).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database_url(request, tmp_path) -> Iterator[str]:
    """A committed, migrated database of this test's own that threads and subprocesses can all reach."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'steward.db'}"
        upgrade(url)
        yield url
        return
    request.getfixturevalue("postgres_template")
    admin = _postgres_admin(POSTGRES_URL)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {WORKERS_DB} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {WORKERS_DB} TEMPLATE {TEMPLATE_DB}"))
    yield make_url(POSTGRES_URL).set(database=WORKERS_DB).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {WORKERS_DB} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def shared_engine(shared_database_url: str) -> Iterator[Engine]:
    engine = make_engine(shared_database_url)
    yield engine
    engine.dispose()


@dataclass
class Published:
    """A product published with one suite: its newest release and the chunks its publish queued."""

    slug: str
    release_id: int
    chunk_ids: list[int]
    owner_token: str


@pytest.fixture
def owner_token(shared_engine) -> str:
    """A product owner (olivia) in the shared database; her API token."""
    with unit_of_work(shared_engine) as session:
        return make_user(session, Role.product_owner, name="olivia")[1]


def publish_product(
    engine: Engine,
    slug: str = "goal-coach",
    *,
    cases: int = 3,
    template: str = "Coach the employee. They wrote: {{ employee_message }}",
    provider: str = "offline",
    model: str = "coach",
    chunk_size: int | None = None,
) -> Published:
    """Register a product with a prompt and a suite, committed, through the domain functions the API calls."""
    with unit_of_work(engine) as session:
        if chunk_size:
            session.chunk_size = chunk_size  # what the API's unit of work does with STEWARD_CHUNK_SIZE
        owner, token = make_user(session, Role.product_owner)
        model_settings = ModelSettings(provider=provider, name=model)
        products.create_product(
            session, owner, ProductCreate(slug=slug, name=slug.title(), risk_tier="minimal", model=model_settings)
        )
        components.publish_prompt(session, owner, slug, "system", PromptPublish(template=template))
        components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec(cases=cases)))
        product = products.get_product(session, slug)
        release = session.scalars(
            select(Release).where(Release.product_id == product.id).order_by(Release.id.desc())
        ).first()
        chunk_ids = list(session.queued_chunks)
    return Published(slug, release.id, chunk_ids, token)


def release_state(engine: Engine, release_id: int) -> tuple[str, str | None]:
    with unit_of_work(engine) as session:
        release = session.get(Release, release_id)
        return release.state, release.error


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_for_release(engine: Engine, release_id: int, timeout: float = 20) -> tuple[str, str | None]:
    """Wait until the release has left ``testing``; returns its state and error."""
    return wait_for(
        lambda: (s := release_state(engine, release_id))[0] != "testing" and s,
        timeout,
        f"release {release_id} to finish testing",
    )


def run_of(engine: Engine, release_id: int) -> Run:
    with unit_of_work(engine) as session:
        return session.scalars(select(Run).where(Run.release_id == release_id)).one()


def recorded(engine: Engine, run_id: int) -> list[tuple[str, int]]:
    """Every (case, repeat) recorded for a run, duplicates included."""
    with unit_of_work(engine) as session:
        return sorted(
            session.execute(
                select(CaseResultRow.case_id, CaseResultRow.repeat_index).where(CaseResultRow.run_id == run_id)
            ).all()
        )


def chunks_of(engine: Engine, run_id: int) -> list[RunChunk]:
    with unit_of_work(engine) as session:
        return list(session.scalars(select(RunChunk).where(RunChunk.run_id == run_id).order_by(RunChunk.index)))


def result_count(engine: Engine, run_id: int) -> int:
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(CaseResultRow).where(CaseResultRow.run_id == run_id))


@dataclass
class FakeModelServer:
    """An OpenAI-compatible chat completions endpoint on loopback that answers after ``latency`` seconds."""

    latency: float = 1.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        last = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"A measurable goal for: {last}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18},
        }

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        await asyncio.sleep(self.latency)
        return web.json_response(self.answer(body))


@pytest.fixture
def fake_model() -> Iterator[FakeModelServer]:
    """A fake OpenAI-compatible server in a thread of this process; worker subprocesses reach it over loopback."""
    server = FakeModelServer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", server.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server.base_url = f"http://127.0.0.1:{port}/v1"
        state["runner"] = runner
        ready.set()

    thread = threading.Thread(target=lambda: (asyncio.set_event_loop(loop), loop.run_forever()), daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop)
    assert ready.wait(10), "the fake model server did not start"
    yield server

    async def stop() -> None:
        await state["runner"].cleanup()
        # Requests from a killed worker may still be waiting out their latency: end them here, or the loop's close
        # leaves them pending ("Task was destroyed but it is pending!").
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()
