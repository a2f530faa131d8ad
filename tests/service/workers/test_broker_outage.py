"""The Celery broker goes away while runs are queued: nothing is lost, nothing passes by default.

A private redis-server (tests/private_services.py) is the broker, so it can be killed; it keeps nothing on
disk, so killing it loses every message in it, the worst a broker can do. Runs are queued by publishing
suites through a real `steward serve` (STEWARD_EXECUTOR=celery) and executed by a real `steward worker`.
The database is the queue: once the broker is back, the sweeps send every chunk still queued, and each run
ends with the outcome its cases earn.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import Engine

from governance.accounts.roles import Role
from service.database import unit_of_work
from service.workers.celery.app import RUNS_QUEUE
from tests.conftest import TEST_SERVER_SECRET
from tests.factories import auth, make_user, product_payload, suite_spec
from tests.private_services import PrivateRedis, free_port, private_redis, steward_server
from tests.service.workers.conftest import FakeModelServer, chunks_of, recorded, wait_for, wait_for_release

STEWARD = Path(sys.executable).with_name("steward")
LEASE_SECONDS = 2.0
REQUEST_TIMEOUT = 20.0

pytestmark = pytest.mark.slow


@pytest.fixture
def broker() -> Iterator[PrivateRedis]:
    with private_redis(free_port()) as server:
        yield server


@pytest.fixture
def steward_env(shared_database_url: str, broker: PrivateRedis, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(
        STEWARD_DATABASE_URL=shared_database_url,
        STEWARD_EXECUTOR="celery",
        STEWARD_BROKER_URL=broker.url(),
        STEWARD_LEASE_SECONDS=str(LEASE_SECONDS),
        STEWARD_WORKER_CONCURRENCY="2",
        STEWARD_CHUNK_SIZE="2",
        STEWARD_VAR_DIR=str(tmp_path / "var"),
        STEWARD_SECRET_KEY=TEST_SERVER_SECRET,  # the chain key the test's own writes seal with
    )
    return env


@pytest.fixture
def api(steward_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with steward_server(steward_env, tmp_path) as (base, _):
        yield f"{base}/api/v1"


@pytest.fixture
def start_worker(steward_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start `steward worker` processes; each is stopped (and its pool with it) at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [str(STEWARD), "worker", "--loglevel", "info", "--concurrency", "2"],
            env=steward_env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, 9)
        process.wait(timeout=10)


@pytest.fixture
def owner(shared_engine: Engine) -> Iterator[httpx.Client]:
    with unit_of_work(shared_engine) as session:
        _, token = make_user(session, Role.product_owner, name="olivia")
    with httpx.Client(headers=auth(token), timeout=REQUEST_TIMEOUT) as client:
        yield client


def publish(
    client: httpx.Client, api: str, slug: str, *, cases: int, expect: str, model: tuple[str, str] = ("offline", "coach")
) -> int:
    """Register a product and publish its prompt and suite through the API; returns the release that queued runs."""
    payload = product_payload(slug, risk_tier="minimal", model={"provider": model[0], "name": model[1]})
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/products", payload),
        ("PUT", f"/products/{slug}/prompts/system", {"template": "Coach: {{ employee_message }}", "message": "p"}),
        ("PUT", f"/products/{slug}/suites/quality", {"spec": suite_spec(cases=cases, expect=expect), "message": "s"}),
    ]
    for method, path, body in steps:
        response = client.request(method, api + path, json=body)
        assert response.status_code == 201, f"{method} {path}: {response.status_code} {response.text}"
    release: int = client.get(f"{api}/products/{slug}").json()["pending_release"]
    assert release, f"publishing {slug}'s suite cut no release"
    return release


def release_view(client: httpx.Client, api: str, release_id: int) -> dict[str, Any]:
    response = client.get(f"{api}/releases/{release_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def assert_finished_with_real_outcome(
    engine: Engine, client: httpx.Client, api: str, release_id: int, *, cases: int, passes: bool
) -> None:
    state, error = wait_for_release(engine, release_id, timeout=40)
    view = release_view(client, api, release_id)
    [run] = view["runs"]
    assert (state, run["state"]) == (("passed", "passed") if passes else ("failed", "failed")), (state, error, run)
    # Every case executed exactly once, by a worker: nothing lost, nothing doubled.
    assert recorded(engine, run["id"]) == sorted((f"case-{i}", 0) for i in range(cases))
    assert all(chunk.state == "done" for chunk in chunks_of(engine, run["id"]))


def test_runs_queued_while_the_broker_is_down_run_once_it_returns(
    shared_engine: Engine,
    broker: PrivateRedis,
    api: str,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    owner: httpx.Client,
    tmp_path: Path,
) -> None:
    worker = start_worker()
    worker_log = tmp_path / "worker-0.log"
    wait_for(lambda: b" ready." in worker_log.read_bytes(), 30, "the worker to connect to the broker")
    broker.stop()

    # The user's publish succeeds while no message can be sent: its runs wait in the database.
    passing = publish(owner, api, "coach-passes", cases=5, expect="goal")
    failing = publish(owner, api, "coach-fails", cases=3, expect="no such word")
    for release_id in (passing, failing):
        view = release_view(owner, api, release_id)
        assert view["state"] == "testing" and [r["state"] for r in view["runs"]] == ["queued"], view

    broker.start()
    assert_finished_with_real_outcome(shared_engine, owner, api, passing, cases=5, passes=True)
    assert_finished_with_real_outcome(shared_engine, owner, api, failing, cases=3, passes=False)
    assert worker.poll() is None, "the worker exited during the outage instead of reconnecting"


def test_runs_whose_messages_the_broker_lost_are_sent_again(
    shared_engine: Engine,
    broker: PrivateRedis,
    api: str,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    owner: httpx.Client,
) -> None:
    passing = publish(owner, api, "coach-passes", cases=4, expect="goal")
    failing = publish(owner, api, "coach-fails", cases=2, expect="no such word")
    waiting = redis.Redis.from_url(broker.url())
    wait_for(lambda: waiting.llen(RUNS_QUEUE) >= 3, 20, "the server to send the chunks' messages")
    waiting.close()

    broker.stop()  # no persistence: the messages are gone
    broker.start()
    assert redis.Redis.from_url(broker.url()).llen(RUNS_QUEUE) == 0
    start_worker()

    assert_finished_with_real_outcome(shared_engine, owner, api, passing, cases=4, passes=True)
    assert_finished_with_real_outcome(shared_engine, owner, api, failing, cases=2, passes=False)


def test_chunks_running_when_the_broker_dies_finish_and_the_rest_are_sent_again(
    shared_engine: Engine,
    broker: PrivateRedis,
    steward_env: dict[str, str],
    fake_model: FakeModelServer,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    owner: httpx.Client,
    tmp_path: Path,
) -> None:
    fake_model.latency = 1.0
    steward_env.update(STEWARD_OPENAI_BASE_URL=fake_model.base_url, STEWARD_OPENAI_API_KEY="test-key")
    # This test counts attempts: with the file's 2 s lease, one renewal held up for a second on a loaded machine
    # (the other test process, SQLite's writer turn) let the sweeper hand a running chunk to a second attempt.
    steward_env["STEWARD_LEASE_SECONDS"] = "6"
    with steward_server(steward_env, tmp_path) as (base, _):
        api = f"{base}/api/v1"
        worker = start_worker()
        release_id = publish(owner, api, "coach-passes", cases=8, expect="goal", model=("openai", "fake-model"))
        [run] = release_view(owner, api, release_id)["runs"]
        wait_for(lambda: any(c.state == "running" for c in chunks_of(shared_engine, run["id"])), 30, "a chunk to run")

        broker.stop()
        running = [c.id for c in chunks_of(shared_engine, run["id"]) if c.state == "running"]
        wait_for(
            lambda: all(c.state != "running" for c in chunks_of(shared_engine, run["id"]) if c.id in running),
            30,
            "the running chunks to finish without the broker",
        )
        assert {c.state for c in chunks_of(shared_engine, run["id"])} >= {"queued"}, "nothing was left to resend"
        broker.start()

        assert_finished_with_real_outcome(shared_engine, owner, api, release_id, cases=8, passes=True)
        assert worker.poll() is None, "the worker exited during the outage instead of reconnecting"
        assert all(c.attempts == 1 for c in chunks_of(shared_engine, run["id"]))
