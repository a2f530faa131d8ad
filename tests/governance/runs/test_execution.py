"""Run execution, domain side: cancelled work of superseded or rejected releases, chunk sizes, stalled runs."""

from __future__ import annotations

from sqlalchemy import select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.releases.models import Release
from governance.review import decisions
from governance.runs.models import Run, RunChunk
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks


def publish(session, owner, slug, template="Coach.", cases=3):
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template=template))
    components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec(cases=cases)))


def test_a_superseded_release_does_not_spend_model_calls(session):
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    publish(session, owner, slug)
    first = session.scalars(select(Release).order_by(Release.id.desc())).first()
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach, kindly."))
    session.refresh(first)
    assert first.state == "superseded"
    old_runs = list(session.scalars(select(Run).where(Run.release_id == first.id)))
    assert [r.state for r in old_runs] == ["cancelled"]
    old_chunks = session.scalars(select(RunChunk).where(RunChunk.run_id == old_runs[0].id)).all()
    assert {c.state for c in old_chunks} == {"cancelled"}
    executed = run_queued_chunks(session)
    assert executed == 1  # only the new release's chunk
    newest = session.scalars(select(Release).order_by(Release.id.desc())).first()
    assert newest.state == "passed"


def test_a_rejected_release_stops_its_queued_runs(session):
    owner, _ = make_user(session, Role.product_owner)
    reviewer, _ = make_user(session, Role.reviewer)
    slug = make_product(session, owner)
    publish(session, owner, slug)
    release = session.scalars(select(Release).order_by(Release.id.desc())).first()
    decisions.reject(session, reviewer, release.id, decisions.RejectRequest(reason="Wrong model for this purpose."))
    assert run_queued_chunks(session) == 0
    assert [r.state for r in session.scalars(select(Run).where(Run.release_id == release.id))] == ["cancelled"]


def test_the_unit_of_work_decides_the_chunk_size(session):
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    session.chunk_size = 2
    publish(session, owner, slug, cases=5)
    release = session.scalars(select(Release).order_by(Release.id.desc())).first()
    run = session.scalars(select(Run).where(Run.release_id == release.id)).one()
    chunks = session.scalars(select(RunChunk).where(RunChunk.run_id == run.id).order_by(RunChunk.index)).all()
    assert [len(c.case_ids) for c in chunks] == [2, 2, 1]
    assert run_queued_chunks(session) == 3
    session.refresh(release)
    assert release.state == "passed"


def test_a_chunk_renders_with_the_same_variables_as_a_local_bundle_run(session):
    from governance.runs.execution import chunk_work, claim_chunk
    from service.bundle import bundle_context, load_bundle
    from service.seed import publish_bundle
    from service.settings import PROJECT_ROOT

    owner, _ = make_user(session, Role.product_owner, name="olivia")
    paula, _ = make_user(session, Role.product_owner, name="paula")
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=owner, shared_actor=paula)
    chunk = claim_chunk(session, "test-worker")
    assert chunk is not None
    served = chunk_work(session, chunk.id).extra_vars
    local = bundle_context(bundle)
    assert served.keys() == local.keys() == {"documents", "processes"}
    for section in ("documents", "processes"):
        assert served[section].keys() == local[section].keys() and served[section]
        for slug, variables in served[section].items():
            assert variables["version"] == 1 and local[section][slug]["version"] == "local"
            assert {**variables, "version": "local"} == local[section][slug]


def test_a_matrix_suite_runs_on_the_server_as_its_first_prompt_on_the_releases_model(session):
    """Results are keyed by (run, case, repeat): a suite's prompt x provider matrix is for local comparisons."""
    from governance.runs import repository as runs_repo

    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach."))
    spec = {**suite_spec(cases=3), "prompts": ["system", "elsewhere"], "providers": ["offline:a", "offline:b"]}
    del spec["prompt"]
    components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=spec))
    run_queued_chunks(session)
    run = session.scalars(select(Run).order_by(Run.id.desc())).first()
    assert run.state == "passed" and run.summary["counts"]["runs"] == 3
    results = runs_repo.case_results_of_run(session, run.id)
    assert len(results) == 3
    assert {(row.result["prompt"], row.result["provider"]) for row in results} == {(None, None)}
    newest = session.scalars(select(Release).order_by(Release.id.desc())).first()
    assert newest.state == "passed"
