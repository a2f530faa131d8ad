"""The embedded executor's child process: it executes what the server's requests queue, stops with the server,
and never outlives it."""

from __future__ import annotations

import multiprocessing
import os

import httpx

from service.app import create_app
from service.workers.embedded_process import ProcessExecutor, execute_in_child
from tests.service.workers.conftest import publish_product, run_of, wait_for_release
from tests.service.workers.test_embedded import (
    embedded_settings,
    publish_through_the_api,
    wait_until_tested,
)


async def test_a_publish_is_tested_in_the_child_process_not_the_server(
    shared_engine, shared_database_url, tmp_path, owner_token, capfd
):
    # Polling so rarely that only the request's hand-over, through the event, can start the run in time.
    settings = embedded_settings(shared_database_url, tmp_path, executor_poll_seconds=60)
    app = create_app(settings, engine=shared_engine)
    executor = app.state.executor
    assert isinstance(executor, ProcessExecutor)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://steward.test/api/v1") as client,
    ):
        child = executor.pid
        assert child is not None and child != os.getpid()
        release_id = await publish_through_the_api(client, owner_token, "Coach: {{ employee_message }}")
        release = await wait_until_tested(client, release_id, owner_token, timeout=60)
    assert release["state"] == "passed"
    assert executor.pid is None  # stopped with the server
    leases = [line for line in capfd.readouterr().err.splitlines() if "leased by" in line]
    # the chunk was leased by a worker of the child process (worker ids are host/pid/random)
    assert leases and all(f"/{child}/" in line for line in leases), leases


def test_chunks_queued_before_the_start_are_executed_by_the_child(shared_engine, shared_database_url, tmp_path):
    published = publish_product(shared_engine, cases=3)
    executor = ProcessExecutor(embedded_settings(shared_database_url, tmp_path, executor_poll_seconds=0.2))
    executor.start()
    try:
        state, error = wait_for_release(shared_engine, published.release_id, timeout=60)
    finally:
        executor.stop()
    assert (state, error) == ("passed", None)
    assert run_of(shared_engine, published.release_id).state == "passed"


def test_the_child_leaves_when_its_server_is_gone(shared_database_url, tmp_path):
    context = multiprocessing.get_context("spawn")
    wake, stopping = context.Event(), context.Event()
    not_its_parent = os.getpid() + 1_000_000  # the child's parent is this process: as if the server had died
    child = context.Process(
        target=execute_in_child,
        args=(embedded_settings(shared_database_url, tmp_path), wake, stopping, not_its_parent),
    )
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0 and not stopping.is_set()
