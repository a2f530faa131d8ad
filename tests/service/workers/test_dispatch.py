"""Choosing the executor, and the sweep's decisions about what to (re-)send to Celery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.kernel.db import utcnow
from governance.runs.execution import claim_chunk
from service.database import make_engine, unit_of_work
from service.settings import Settings
from service.workers import NoExecutor, make_executor
from service.workers.celery.app import EXECUTE_CHUNK_TASK, BrokerNotConfigured
from service.workers.celery.dispatch import CeleryExecutor, ChunkSweeper
from service.workers.embedded import EmbeddedExecutor
from service.workers.embedded_process import ProcessExecutor
from tests.service.workers.conftest import publish_product


def test_the_setting_picks_the_executor(engine):
    in_child = make_executor(Settings(executor="embedded"), engine)
    assert isinstance(in_child, ProcessExecutor)
    assert in_child.settings.database_url == engine.url.render_as_string(hide_password=False)
    assert isinstance(make_executor(Settings(executor="embedded", embedded_process=False), engine), EmbeddedExecutor)
    in_memory = make_engine("sqlite://")
    assert isinstance(make_executor(Settings(executor="embedded"), in_memory), EmbeddedExecutor)  # no other process
    assert isinstance(make_executor(Settings(executor="none"), engine), NoExecutor)
    celery = make_executor(Settings(executor="celery", broker_url="redis://127.0.0.1:6379/15"), engine)
    assert isinstance(celery, CeleryExecutor)
    with pytest.raises(BrokerNotConfigured, match="STEWARD_BROKER_URL"):
        make_executor(Settings(executor="celery", broker_url=None), engine)


class FakeCelery:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send_task(self, name: str, args: list, queue: str) -> None:
        assert name == EXECUTE_CHUNK_TASK
        self.sent.extend(args)


@pytest.fixture
def sweeper(shared_engine, monkeypatch):
    app = FakeCelery()
    sweeper = ChunkSweeper(shared_engine, app, Settings(lease_seconds=60))  # type: ignore[arg-type]
    sweeper.broker_length = 0
    monkeypatch.setattr("service.workers.celery.dispatch.broker_queue_length", lambda _app: sweeper.broker_length)
    return sweeper


def test_queued_chunks_are_resent_only_when_the_broker_has_nothing_waiting(sweeper, shared_engine):
    published = publish_product(shared_engine, cases=4, chunk_size=2)

    sweeper.broker_length = 2  # their messages are still in the queue: the workers are only behind
    assert sweeper.sweep() == []
    sweeper.broker_length = 0  # queued in the database, but no message anywhere: lost, send again
    assert sweeper.sweep() == published.chunk_ids
    assert sweeper.sweep() == []  # just sent: a worker may be about to lease them
    assert sweeper.app.sent == published.chunk_ids


def test_a_chunk_whose_lease_expired_is_queued_again_and_sent(sweeper, shared_engine):
    published = publish_product(shared_engine, cases=2)
    sweeper.broker_length = 5  # busy broker: only the expired lease needs a new message
    with unit_of_work(shared_engine) as session:
        chunk = claim_chunk(session, "dead-worker")
        chunk.lease_expires_at = utcnow() - timedelta(seconds=1)

    assert sweeper.sweep() == published.chunk_ids
    assert sweeper.app.sent == published.chunk_ids
