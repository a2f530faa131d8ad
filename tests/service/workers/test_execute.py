"""execute_chunk, the one code path of every executor: results, errors, redelivery, lost leases, clean stops."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from evals import CaseResult
from governance.audit.models import AuditEvent
from governance.audit.trail import begin_write
from governance.kernel.db import utcnow
from governance.runs.execution import (
    RunVerdict,
    claim_chunk,
    complete_chunk,
    judge_run,
    record_results,
    record_verdict,
)
from governance.runs.models import Run, RunChunk
from service.database import begin_reading, unit_of_work
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


def _complete_without_finishing(engine, cases: int = 3) -> int:
    """A run whose one chunk has all its results and is done, but whose summary nobody has written yet."""
    publish_product(engine, cases=cases)
    with unit_of_work(engine) as session:
        chunk = claim_chunk(session, "w1")
        results = [
            CaseResult(case_id=f"case-{i}", repeat_index=0, outcome="passed", score=1.0, output="goal")
            for i in range(cases)
        ]
        record_results(session, chunk.run_id, results)
        assert complete_chunk(session, chunk.id, "w1", finish_run=False)
        return chunk.run_id


def _hold_the_write_lock(engine):
    """Another writer mid-transaction: SQLite's write lock, PostgreSQL's audit chain lock and every run row."""
    connection = engine.connect()
    connection.begin()  # on SQLite, Steward's engine begins every writing transaction IMMEDIATE
    begin_write(Session(bind=connection))
    connection.execute(select(Run.id).with_for_update())
    return connection


def test_a_complete_run_is_judged_while_another_writer_holds_the_lock(shared_engine):
    run_id = _complete_without_finishing(shared_engine)
    writer = _hold_the_write_lock(shared_engine)
    judged: list[object] = []
    try:

        def judge() -> None:
            with unit_of_work(shared_engine) as session:
                begin_reading(session)
                judged.append(judge_run(session, run_id))

        reader = threading.Thread(target=judge, daemon=True)
        reader.start()
        reader.join(timeout=25)
        assert judged, "judging a run waited for the writer: it must only read"
    finally:
        writer.rollback()
        writer.close()
    [verdict] = judged
    assert isinstance(verdict, RunVerdict) and verdict.summary.status == "passed"
    with unit_of_work(shared_engine) as session:
        assert record_verdict(session, verdict).state == "passed"


def test_of_two_workers_that_judged_one_run_only_the_first_writes(shared_engine):
    run_id = _complete_without_finishing(shared_engine)
    with unit_of_work(shared_engine) as session:
        first, second = judge_run(session, run_id), judge_run(session, run_id)
    assert first is not None and second is not None
    with unit_of_work(shared_engine) as session:
        record_verdict(session, first)
    with unit_of_work(shared_engine) as session:
        assert record_verdict(session, second).state == "passed"
        assert judge_run(session, run_id) is None  # finished: nothing left to judge
    with unit_of_work(shared_engine) as session:
        events = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("run.%"))).all()
    assert events == ["run.passed"]


def test_a_verdict_is_not_written_when_a_chunk_went_back_to_the_queue(shared_engine):
    run_id = _complete_without_finishing(shared_engine)
    with unit_of_work(shared_engine) as session:
        verdict = judge_run(session, run_id)
    with unit_of_work(shared_engine) as session:
        session.execute(update(RunChunk).where(RunChunk.run_id == run_id).values(state="queued"))
    with unit_of_work(shared_engine) as session:
        assert verdict is not None and record_verdict(session, verdict) is None
    with unit_of_work(shared_engine) as session:
        assert session.get(Run, run_id).state not in ("passed", "failed", "error")
