"""`steward demo` takes the goal coach live on the evidence its obligations need, recorded as the demo seeds it."""

from __future__ import annotations

from typer.testing import CliRunner

from governance.catalog.products import get_product
from governance.compliance.reading import classification_view, obligations_view
from governance.releases.status import product_view
from service.cli import app as cli
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.seed import DEMO_EVIDENCE
from tests.service.test_cli import env  # noqa: F401  (fixture)


def test_the_demo_ends_with_a_compliant_live_goal_coach_whose_obligations_are_met(env):  # noqa: F811
    upgrade(env.database_url)
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    with unit_of_work(make_engine(env.database_url)) as session:
        assert classification_view(session, "goal-coach").classification == "not_high_risk"
        obligations = obligations_view(session, "goal-coach")
        assert [o.status for o in obligations.obligations] == ["met", "met"] and not obligations.blocking
        met = {o.obligation: o.evidence for o in obligations.obligations}
        assert met["dpia"] == DEMO_EVIDENCE["dpia"]
        view = product_view(session, get_product(session, "goal-coach"))
        assert view.status == "compliant" and view.live_release is not None
