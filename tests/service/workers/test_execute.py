"""execute_chunk, the one code path of every executor: results, errors, redelivery, lost leases, clean stops."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from evals import CaseResult
from governance.kernel.db import utcnow
from governance.runs.execution import claim_chunk, record_results
from governance.runs.models import RunChunk
from service.database import unit_of_work
from service.settings import Settings
from service.workers.execute import execute_chunk
from tests.service.workers.conftest import (
    chunks_of,
    publish_product,
    recorded,
    release_state,
    result_count,
    run_of,
    wait_for,
)


def settings_for(url: str, tmp_path, **overrides) -> Settings:
    return Settings(database_url=url, var_dir=tmp_path / "var", executor="none", **overrides)


def test_a_chunk_runs_records_every_case_and_passes_the_release(shared_engine, shared_database_url, tmp_path):
    published = publish_product(shared_engine, cases=3)
    settings = settings_for(shared_database_url, tmp_path)

    assert execute_chunk(shared_engine, None, "w1", settings) is True
    assert execute_chunk(shared_engine, None, "w1", settings) is False  # nothing left to take

    run = run_of(shared_engine, published.release_id)
    assert run.state == "passed" and run.offline
    assert recorded(shared_engine, run.id) == [(f"case-{i}", 0) for i in range(3)]
    assert release_state(shared_engine, published.release_id) == ("passed", None)


def test_a_template_error_errors_the_run_and_fails_the_release_with_the_error(
    shared_engine, shared_database_url, tmp_path
):
    published = publish_product(shared_engine, template="Hello {{ employee_name }}: {{ employee_message }}")

    execute_chunk(shared_engine, None, "w1", settings_for(shared_database_url, tmp_path))

    run = run_of(shared_engine, published.release_id)
    assert run.state == "error"
    assert "template error" in run.error and "employee_name" in run.error
    state, error = release_state(shared_engine, published.release_id)
    assert state == "failed" and "employee_name" in error


def test_a_provider_that_cannot_start_errors_the_chunk_never_passes(shared_engine, shared_database_url, tmp_path):
    published = publish_product(shared_engine, provider="no-such-provider", model="x")

    execute_chunk(shared_engine, None, "w1", settings_for(shared_database_url, tmp_path))

    [chunk] = chunks_of(shared_engine, run_of(shared_engine, published.release_id).id)
    assert chunk.state == "error" and "no-such-provider" in chunk.error
    state, error = release_state(shared_engine, published.release_id)
    assert state == "failed" and "no-such-provider" in error


def test_a_redelivered_chunk_skips_cases_an_earlier_worker_recorded(
    shared_engine, shared_database_url, tmp_path, fake_model
):
    fake_model.latency = 0
    published = publish_product(shared_engine, cases=4, provider="openai", model="fake-model")
    with unit_of_work(shared_engine) as session:
        # A worker that leased the chunk, recorded one case and died: its lease has already run out.
        chunk = claim_chunk(session, "dead-worker", lease_seconds=60)
        chunk.lease_expires_at = utcnow() - timedelta(seconds=1)
        earlier = CaseResult(case_id="case-2", repeat_index=0, outcome="passed", score=1.0, output="goal")
        record_results(session, chunk.run_id, [earlier])
    settings = settings_for(
        shared_database_url, tmp_path, openai_base_url=fake_model.base_url, openai_api_key="test-key"
    )

    assert execute_chunk(shared_engine, chunk.id, "w2", settings) is True

    run = run_of(shared_engine, published.release_id)
    assert recorded(shared_engine, run.id) == [(f"case-{i}", 0) for i in range(4)]
    assert len(fake_model.requests) == 3  # case-2 was not asked again
    assert [c.attempts for c in chunks_of(shared_engine, run.id)] == [2]
    assert run.state == "passed"


def test_a_worker_that_loses_its_lease_stops_and_does_not_complete(
    shared_engine, shared_database_url, tmp_path, fake_model
):
    fake_model.latency = 0.5
    published = publish_product(shared_engine, cases=6, provider="openai", model="fake-model")
    settings = settings_for(
        shared_database_url,
        tmp_path,
        openai_base_url=fake_model.base_url,
        openai_api_key="test-key",
        lease_seconds=0.6,
        worker_concurrency=1,
    )
    finished = threading.Event()
    thread = threading.Thread(
        target=lambda: (execute_chunk(shared_engine, None, "slow-worker", settings), finished.set())
    )
    thread.start()
    run_id = run_of(shared_engine, published.release_id).id
    wait_for(lambda: result_count(shared_engine, run_id) >= 1, 10, "a first result")
    with unit_of_work(shared_engine) as session:
        # Another worker took the chunk over (as after an expired lease).
        session.execute(update(RunChunk).where(RunChunk.run_id == run_id).values(lease_owner="other-worker"))

    assert finished.wait(5), "the worker kept going without its lease"
    thread.join()
    [chunk] = chunks_of(shared_engine, run_id)
    assert chunk.state == "running" and chunk.lease_owner == "other-worker"
    assert result_count(shared_engine, run_id) < 6
    assert release_state(shared_engine, published.release_id)[0] == "testing"


def test_stopping_hands_the_lease_back_without_using_up_an_attempt(
    shared_engine, shared_database_url, tmp_path, fake_model
):
    fake_model.latency = 0.5
    published = publish_product(shared_engine, cases=6, provider="openai", model="fake-model")
    settings = settings_for(
        shared_database_url, tmp_path, openai_base_url=fake_model.base_url, openai_api_key="k", worker_concurrency=1
    )
    stop = threading.Event()
    thread = threading.Thread(target=execute_chunk, args=(shared_engine, None, "w1", settings), kwargs={"stop": stop})
    thread.start()
    run_id = run_of(shared_engine, published.release_id).id
    wait_for(lambda: result_count(shared_engine, run_id) >= 1, 10, "a first result")

    stop.set()
    thread.join(timeout=5)

    assert not thread.is_alive()
    [chunk] = chunks_of(shared_engine, run_id)
    assert (chunk.state, chunk.attempts, chunk.lease_owner) == ("queued", 0, None)
    done = result_count(shared_engine, run_id)
    assert 1 <= done < 6
    fake_model.latency = 0
    execute_chunk(shared_engine, None, "w2", settings)
    assert recorded(shared_engine, run_id) == [(f"case-{i}", 0) for i in range(6)]
    assert release_state(shared_engine, published.release_id)[0] == "passed"
