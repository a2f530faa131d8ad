"""`steward technical-file purge`: only files older than STEWARD_TECHNICAL_FILE_RETENTION_YEARS, each audited."""

from __future__ import annotations

from typer.testing import CliRunner

from governance.audit.reading import export_events
from governance.technical_file import repository
from governance.technical_file.freezing import add_years
from service.cli import app as cli
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from tests.service.test_cli import env  # noqa: F401  (fixture)

runner = CliRunner()


def test_purge_keeps_young_files_refuses_one_by_name_and_purges_old_ones(env):  # noqa: F811
    upgrade(env.database_url)
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    dry = runner.invoke(cli, ["technical-file", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "0 technical file(s) would purge; files younger than 10 years" in dry.output
    refused = runner.invoke(cli, ["technical-file", "purge", "--release", "1"])
    assert (
        refused.exit_code == 1
        and "--release: the technical file of release 1 of 'goal-coach' must be kept until" in (refused.output)
    )
    engine = make_engine(env.database_url)
    with unit_of_work(engine) as session:
        row = repository.frozen_file(session, 1)
        assert row is not None
        row.frozen_at = add_years(row.frozen_at, -11)  # as if it went live eleven years ago
    dry = runner.invoke(cli, ["technical-file", "purge", "--dry-run"])
    assert "would purge goal-coach release 1 (release id 1)" in dry.output and "1 technical file(s) would purge" in (
        dry.output
    )
    done = runner.invoke(cli, ["technical-file", "purge"])
    assert done.exit_code == 0 and "purged goal-coach release 1" in done.output
    with unit_of_work(engine) as session:
        row = repository.frozen_file(session, 1)
        assert row is not None and row.content is None and row.purged_by == "system"
        assert [e["subject"] for e in export_events(session) if e["action"] == "technical_file.purged"] == [
            "goal-coach#1"
        ]
    engine.dispose()
