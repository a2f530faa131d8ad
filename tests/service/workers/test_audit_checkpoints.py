"""The notification pump writes a signed checkpoint of the audit chain every STEWARD_AUDIT_CHECKPOINT_MINUTES."""

from __future__ import annotations

import json
import os

from governance.audit.checkpoints import read_document
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import Settings
from service.signing_keys import signing_key
from service.workers.notifier import NotificationPump
from tests.conftest import TEST_SERVER_SECRET
from tests.governance.audit.conftest import write_events


def pump_for(tmp_path, **overrides) -> NotificationPump:
    url = f"sqlite:///{tmp_path / 'pump.db'}"
    upgrade(url)
    settings = Settings(database_url=url, var_dir=tmp_path / "var", secret_key=TEST_SERVER_SECRET, **overrides)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        write_events(session, 3)
    return NotificationPump(engine, settings)


def test_the_first_checkpoint_comes_one_interval_after_start_and_then_every_interval(tmp_path):
    pump = pump_for(tmp_path, audit_checkpoint_minutes=10)
    start = 1_000_000.0
    assert pump.checkpoint_if_due(start) is None
    assert pump.checkpoint_if_due(start + 599) is None
    written = pump.checkpoint_if_due(start + 600)
    assert written is not None and written.parent == tmp_path / "var" / "checkpoints"
    signed = read_document(json.loads(written.read_text()))
    assert (signed.checkpoint.seq, signed.checkpoint.events) == (3, 3)
    key = signing_key(pump.settings).public
    assert signed.checkpoint.signing_key_id == key.key_id
    assert key.verifies(signed.checkpoint.signed_bytes(), signed.signature)
    assert pump.checkpoint_if_due(start + 1199) is None
    assert pump.checkpoint_if_due(start + 1200) is not None


def test_a_restart_continues_from_the_newest_checkpoint_written(tmp_path):
    directory = tmp_path / "elsewhere"
    pump = pump_for(tmp_path, audit_checkpoint_minutes=10, audit_checkpoint_dir=directory)
    directory.mkdir()
    old = directory / "checkpoint-old.json"
    old.write_text("{}")
    os.utime(old, (1_000_000.0, 1_000_000.0))
    # Twenty minutes after the newest one: overdue, so it is written at once.
    assert pump.checkpoint_if_due(1_001_200.0) is not None
    assert len(list(directory.glob("checkpoint-*.json"))) == 2


def test_zero_minutes_writes_none(tmp_path):
    pump = pump_for(tmp_path, audit_checkpoint_minutes=0)
    assert pump.checkpoint_if_due(0.0) is None
    assert pump.checkpoint_if_due(10.0**9) is None
    assert not (tmp_path / "var" / "checkpoints").exists()
