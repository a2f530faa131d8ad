"""A suite with a fairness block on the server: its variants are queued and chunked like cases, judged as a whole."""

from __future__ import annotations

from sqlalchemy import select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.releases.models import Release
from governance.runs.models import Run, RunChunk
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks


def fairness_spec() -> dict:
    spec = suite_spec("coach-fairness", cases=2)
    spec["threshold"] = {"pass_rate": 1.0}
    for case in spec["cases"]:
        case["vars"]["employee_message"] = "{first_name} asks for a goal." + case["vars"]["employee_message"]
    spec["fairness"] = {"vars": ["employee_message"], "dimensions": [{"name": "gender"}]}
    return spec


def test_variants_are_queued_in_chunks_and_the_run_carries_the_fairness_verdict(session):
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    session.chunk_size = 5
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach."))
    components.publish_suite(session, owner, slug, "coach-fairness", SuitePublish(spec=fairness_spec()))
    release = session.scalars(select(Release).order_by(Release.id.desc())).first()
    run = session.scalars(select(Run).where(Run.release_id == release.id)).one()
    chunks = session.scalars(select(RunChunk).where(RunChunk.run_id == run.id).order_by(RunChunk.index)).all()
    queued = [case_id for chunk in chunks for case_id in chunk.case_ids]
    # the gender variants of each base case, 8 each, replace them
    assert run.planned == len(queued) == 16
    assert queued[0] == "case-0~gender~female~1" and "case-0" not in queued
    assert [len(c.case_ids) for c in chunks] == [5, 5, 5, 1]
    assert run_queued_chunks(session) == 4
    session.refresh(run)
    session.refresh(release)
    # offline answers cannot show bias: the run keeps its own verdict and says so, never "fairness passed"
    assert run.state == "passed" and run.summary["fairness"] == "cannot-show-bias"
    assert release.state == "passed"


def test_the_policy_of_the_tier_sets_floors_on_the_fairness_thresholds(session, monkeypatch):
    from governance.catalog.models import RiskTier
    from governance.catalog.products import get_product
    from governance.releases.policies import PolicyFairness, PolicyUpdate, policy_snapshot, update_policy
    from governance.runs import execution

    owner, _ = make_user(session, Role.product_owner)
    admin, _ = make_user(session, Role.admin)
    slug = make_product(session, owner)
    tier = RiskTier(get_product(session, slug).risk_tier)
    floors = PolicyFairness(min_impact_ratio=0.9, max_pass_rate_gap=0.5)
    policy = update_policy(session, admin, tier, PolicyUpdate(fairness_thresholds=floors))
    assert policy_snapshot(policy)["fairness_thresholds"] == {"min_impact_ratio": 0.9, "max_pass_rate_gap": 0.5}
    seen = []
    analyse = execution.analyse_sync
    monkeypatch.setattr(execution, "analyse_sync", lambda *a, **kw: seen.append(kw["thresholds"]) or analyse(*a, **kw))
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach."))
    components.publish_suite(session, owner, slug, "coach-fairness", SuitePublish(spec=fairness_spec()))
    run_queued_chunks(session)
    # the policy's stricter floor wins; the suite's own stricter gap (default 0.1) stays
    assert [(t.min_impact_ratio, t.max_pass_rate_gap) for t in seen] == [(0.9, 0.1)]
