"""The policy flag that refuses approval on offline-only evidence: on for high risk from the migration, changed by
admins with its written reason, audited; the demo turns it off for its reference product, in writing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from governance.accounts.roles import Role
from governance.audit.reading import export_events
from governance.catalog.models import RiskTier
from governance.releases.policies import PolicyUpdate, get_policy, policy_snapshot, update_policy
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.seed import DEMO_OFFLINE_REASON, seed_demo
from service.settings import PROJECT_ROOT
from tests.factories import make_user


def test_a_fresh_database_refuses_offline_evidence_for_high_risk_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT risk_tier, refuse_offline_evidence FROM policies")).all()
    engine.dispose()
    assert {tier: bool(flag) for tier, flag in rows} == {"high": True, "limited": False, "minimal": False}


def test_an_admin_accepts_offline_evidence_only_with_a_reason_that_is_audited(session) -> None:
    admin, _ = make_user(session, Role.admin)
    update_policy(session, admin, RiskTier.high, PolicyUpdate(refuse_offline_evidence=True))
    reason = "No model can be called from this network; the pilot's evidence is offline."
    policy = update_policy(
        session, admin, RiskTier.high, PolicyUpdate(refuse_offline_evidence=False, offline_evidence_reason=reason)
    )
    assert policy_snapshot(policy)["refuse_offline_evidence"] is False
    assert get_policy(session, "high").offline_evidence_reason == reason
    last = [e for e in export_events(session) if e["action"] == "policy.updated"][-1]
    assert last["before"]["refuse_offline_evidence"] is True
    assert last["after"] == {"refuse_offline_evidence": False, "offline_evidence_reason": reason}


def test_the_demo_accepts_offline_evidence_for_its_high_risk_product_in_writing(tmp_path: Path, chain_key) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        seed_demo(session, PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    with unit_of_work(engine) as session:
        high = get_policy(session, "high")
        assert (high.refuse_offline_evidence, high.offline_evidence_reason) == (False, DEMO_OFFLINE_REASON)
        events = [e for e in export_events(session) if e["action"] == "policy.updated"]
        assert [(e["actor"], e["after"]["refuse_offline_evidence"]) for e in events] == [("ada", False)]
    engine.dispose()
