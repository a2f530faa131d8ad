"""Celery workers for real: a Redis broker, `steward worker` processes, and a worker killed mid-run.

Runs go to a fake OpenAI-compatible server with a second of latency per call, so a run is still
going when its worker is killed with SIGKILL (the whole process group, as when a machine is lost).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.settings import Settings
from service.workers.celery.dispatch import CeleryExecutor
from tests.service.workers.conftest import (
    chunks_of,
    publish_product,
    recorded,
    result_count,
    run_of,
    wait_for,
    wait_for_release,
)

REDIS_URL = os.environ.get("STEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
STEWARD = Path(sys.executable).with_name("steward")
LEASE_SECONDS = 2.0

pytestmark = pytest.mark.slow


@pytest.fixture
def broker_url() -> str:
    """The test Redis database, emptied: no message of an earlier test may reach this one's workers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"no Redis at STEWARD_TEST_REDIS_URL={REDIS_URL} ({exc}); `.ci/run` starts one")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def worker_env(shared_database_url, broker_url, fake_model, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(
        STEWARD_DATABASE_URL=shared_database_url,
        STEWARD_EXECUTOR="celery",
        STEWARD_BROKER_URL=broker_url,
        STEWARD_LEASE_SECONDS=str(LEASE_SECONDS),
        STEWARD_WORKER_CONCURRENCY="2",
        STEWARD_OPENAI_BASE_URL=fake_model.base_url,
        STEWARD_OPENAI_API_KEY="test-key",
        STEWARD_VAR_DIR=str(tmp_path / "var"),
    )
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `steward worker` processes, each in a process group of its own; all are killed at the end."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [str(STEWARD), "worker", "--loglevel", "info", *args],
            env=worker_env,
            cwd=tmp_path,  # no stray .env file
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL a worker and its pool processes: nothing gets to clean up."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture
def server_executor(shared_engine, shared_database_url, broker_url, tmp_path) -> Iterator[CeleryExecutor]:
    """The server's side: sends tasks after commit and sweeps for expired leases."""
    settings = Settings(
        database_url=shared_database_url,
        var_dir=tmp_path / "var",
        executor="celery",
        broker_url=broker_url,
        lease_seconds=LEASE_SECONDS,
    )
    executor = CeleryExecutor(shared_engine, settings)
    executor.start()
    yield executor
    executor.stop()


def test_a_run_survives_its_worker_being_killed_and_finishes_on_another(
    shared_engine, fake_model, start_worker, server_executor
):
    fake_model.latency = 1.0
    published = publish_product(shared_engine, cases=8, chunk_size=2, provider="openai", model="fake-model")
    run_id = run_of(shared_engine, published.release_id).id
    first = start_worker("--concurrency", "2")
    server_executor.submit(published.chunk_ids)

    # Killed while it holds a chunk mid-way: after some results, at a moment a chunk is leased and running
    # (between two chunks there is a short window in which none is).
    wait_for(
        lambda: (
            result_count(shared_engine, run_id) >= 2
            and any(c.state == "running" for c in chunks_of(shared_engine, run_id))
        ),
        30,
        "the first worker to record results while holding a chunk",
        interval=0.02,
    )
    kill(first)
    interrupted = [c.id for c in chunks_of(shared_engine, run_id) if c.state == "running"]
    assert interrupted, "the worker was killed between chunks; nothing was interrupted"
    start_worker("--concurrency", "2")

    state, error = wait_for_release(shared_engine, published.release_id, timeout=45)
    assert (state, error) == ("passed", None)
    run = run_of(shared_engine, published.release_id)
    assert run.state == "passed"
    executions = recorded(shared_engine, run_id)
    assert executions == sorted({(f"case-{i}", 0) for i in range(8)})  # every case once: none missing, no duplicate
    chunks = chunks_of(shared_engine, run_id)
    assert all(c.state == "done" for c in chunks)
    assert all(c.attempts == 2 for c in chunks if c.id in interrupted)


def test_a_chunk_that_keeps_killing_its_worker_ends_as_an_error(
    shared_engine, fake_model, start_worker, server_executor
):
    fake_model.latency = 120  # the model never answers in time: every worker dies holding the chunk
    published = publish_product(shared_engine, cases=1, provider="openai", model="fake-model")
    run_id = run_of(shared_engine, published.release_id).id
    server_executor.submit(published.chunk_ids)

    for attempt in (1, 2, 3):
        worker = start_worker("--pool", "solo")
        wait_for(
            lambda attempt=attempt: (
                (c := chunks_of(shared_engine, run_id)[0]).attempts == attempt and c.state == "running"
            ),
            20,
            f"attempt {attempt} to lease the chunk",
        )
        kill(worker)

    state, error = wait_for_release(shared_engine, published.release_id, timeout=20)
    assert state == "failed" and "gave up after 3 attempts" in error
    run = run_of(shared_engine, published.release_id)
    assert run.state == "error" and run.state != "passed"
    [chunk] = chunks_of(shared_engine, run_id)
    assert chunk.state == "error"
