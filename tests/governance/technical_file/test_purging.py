"""Retention: frozen files older than the setting are purged (and audited), younger ones never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.audit.reading import export_events
from governance.kernel.errors import Conflict, Invalid, NotFound
from governance.technical_file import repository
from governance.technical_file.freezing import add_years, technical_file
from governance.technical_file.purging import purge_expired, purge_one
from tests.technical_files import live_demo, second_release


def purged_events(session) -> list[dict]:
    return [e for e in export_events(session, product="goal-coach") if e["action"] == "technical_file.purged"]


def test_nothing_younger_than_the_retention_is_purged_and_a_dry_run_changes_nothing(session):
    demo = live_demo(session)
    row = repository.frozen_file(session, demo.first.id)
    assert row is not None
    just_before = add_years(row.frozen_at, 10) - timedelta(seconds=1)
    assert purge_expired(session, "system", retention_years=10, dry_run=False, now=just_before) == []
    later = add_years(row.frozen_at, 10) + timedelta(days=1)
    listed = purge_expired(session, "system", retention_years=10, dry_run=True, now=later)
    assert [(p.product, p.release, p.sha256) for p in listed] == [("goal-coach", 1, row.sha256)]
    assert repository.frozen_file(session, demo.first.id).content is not None and purged_events(session) == []


def test_an_expired_file_is_purged_audited_and_no_longer_served(session):
    demo = live_demo(session)
    second_release(session, live=True)
    first = repository.frozen_file(session, demo.first.id)
    assert first is not None
    later = add_years(first.frozen_at, 10) + timedelta(days=1)
    purged = purge_expired(session, "system", retention_years=10, dry_run=False, now=later)
    assert [p.release for p in purged] == [1, 2]
    row = repository.frozen_file(session, demo.first.id)
    assert row is not None and row.content is None and row.purged_by == "system" and row.sha256 == first.sha256
    events = purged_events(session)
    assert [e["subject"] for e in events] == ["goal-coach#1", "goal-coach#2"]
    assert events[0]["before"]["sha256"] == first.sha256 and events[0]["actor"] == "system"
    with pytest.raises(NotFound, match="purged"):
        technical_file(session, demo.first.id)
    # Purged once: a second purge finds nothing.
    assert purge_expired(session, "system", retention_years=10, dry_run=False, now=later) == []


def test_purging_one_file_is_refused_within_its_retention(session):
    demo = live_demo(session)
    with pytest.raises(Conflict, match="must be kept until"):
        purge_one(session, "system", demo.first.id, retention_years=10)
    row = repository.frozen_file(session, demo.first.id)
    assert row is not None and row.content is not None
    purged = purge_one(session, "system", demo.first.id, retention_years=1, now=add_years(row.frozen_at, 2))
    assert purged.release == 1 and repository.frozen_file(session, demo.first.id).content is None
    with pytest.raises(NotFound):
        purge_one(session, "system", demo.first.id, retention_years=1, now=add_years(row.frozen_at, 2))
    with pytest.raises(Invalid):
        purge_expired(session, "system", retention_years=0, dry_run=True)


@given(
    moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)),
    years=st.integers(min_value=1, max_value=100),
)
def test_a_retention_of_n_years_is_n_calendar_years(moment: datetime, years: int) -> None:
    later = add_years(moment, years)
    assert later.year == moment.year + years and later.month == moment.month
    assert later.day == moment.day or (moment.month, moment.day, later.day) == (2, 29, 28)
    assert timedelta(days=365 * years) <= later - moment <= timedelta(days=366 * years)
    assert add_years(later, -years) <= moment
