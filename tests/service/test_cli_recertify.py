"""`steward recertify --due`: starts what is due now, executes it with --execute, and starts nothing twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from governance.kernel.db import utcnow
from governance.recertification.models import Recertification
from governance.releases.models import Release
from service.cli import app as cli
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("STEWARD_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.mark.slow
def test_recertify_due_runs_what_is_due_and_then_nothing(env):
    upgrade(env.database_url)
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    assert runner.invoke(cli, ["recertify"]).exit_code != 0
    nothing = runner.invoke(cli, ["recertify", "--due"])
    assert nothing.exit_code == 0 and "no re-certification is due" in nothing.output
    engine = make_engine(env.database_url)
    with unit_of_work(engine) as session:
        session.execute(
            update(Release).where(Release.state == "live").values(state_changed_at=utcnow() - timedelta(days=181))
        )
    result = runner.invoke(cli, ["recertify", "--due", "--execute"])
    assert result.exit_code == 0, result.output
    assert "re-certifying goal-coach release" in result.output
    with unit_of_work(engine) as session:
        [recertification] = session.scalars(select(Recertification)).all()
        assert recertification.state == "held" and recertification.started_by == "scheduler"
    again = runner.invoke(cli, ["recertify", "--due"])
    assert "no re-certification is due" in again.output
    engine.dispose()
