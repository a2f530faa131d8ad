"""Candidate-model runs: the live release's suites on another model, beside the live model's results."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from evals.providers.base import Completion
from evals.providers.offline import OfflineProvider
from governance.accounts.roles import Role
from governance.catalog.products import get_product
from governance.kernel.errors import Conflict, Forbidden
from governance.releases.reading import get_release
from governance.runs import repository as runs_repo
from governance.runs.candidates import CandidateRunRequest, candidate_comparison, start_candidate_run
from governance.runs.execution import current_runs
from tests.factories import make_product, make_user
from tests.inline_worker import run_queued_chunks
from tests.live_products import live_product

ORIGINAL_COMPLETE = OfflineProvider.complete


async def _weaker_on_candidate(self, request):
    """The live model answers as scripted; the candidate 'offline:smaller' misses the point on case-1."""
    if self.model == "smaller" and request.case_id == "case-1":
        return Completion(text="Something unrelated.", prompt_tokens=1, completion_tokens=2, cost_usd=0.0)
    return await ORIGINAL_COMPLETE(self, request)


def request(provider: str = "offline", name: str = "smaller") -> CandidateRunRequest:
    return CandidateRunRequest.model_validate({"model": {"provider": provider, "name": name}})


def test_a_candidate_run_shows_beside_the_live_model_and_is_never_evidence(session, monkeypatch):
    owner, slug, release = live_product(session, cases=2)
    evidence = [run.id for run in current_runs(session, release.id)]
    started = start_candidate_run(session, owner, slug, request())
    assert started.release == release.number and started.model == "offline:smaller" and len(started.run_ids) == 1
    monkeypatch.setattr(OfflineProvider, "complete", _weaker_on_candidate)
    run_queued_chunks(session)
    [run] = runs_repo.runs_by_ids(session, started.run_ids)
    assert (run.provider, run.purpose, run.state) == ("offline:smaller", "candidate", "failed")
    assert run.summary["pass_rate"] == 0.5
    # the live release is untouched: same evidence, still live
    assert [r.id for r in current_runs(session, release.id)] == evidence
    assert get_release(session, release.id).state == "live"
    comparison = candidate_comparison(session, get_product(session, slug))
    assert comparison is not None and comparison.providers == ["offline:smaller"]
    assert comparison.live_provider == "offline:m"
    [suite] = comparison.suites
    assert suite.suite == "quality" and suite.live is not None
    assert (suite.live.state, suite.live.pass_rate) == ("passed", 1.0)
    cell = comparison.cell(suite, "offline:smaller")
    assert cell is not None and (cell.state, cell.pass_rate) == ("failed", 0.5)


def test_a_second_try_of_the_same_model_replaces_the_first_in_the_comparison(session):
    owner, slug, _release = live_product(session)
    first = start_candidate_run(session, owner, slug, request())
    run_queued_chunks(session)
    second = start_candidate_run(session, owner, slug, request())
    run_queued_chunks(session)
    comparison = candidate_comparison(session, get_product(session, slug))
    assert comparison is not None
    [suite] = comparison.suites
    assert [c.run_id for c in suite.candidates] == second.run_ids != first.run_ids


def test_who_may_try_and_what_cannot_be_tried(session):
    owner, slug, _release = live_product(session)
    stranger = make_user(session, Role.product_owner)[0]
    with pytest.raises(Forbidden):
        start_candidate_run(session, stranger, slug, request())
    with pytest.raises(Conflict, match="already runs on offline:m"):
        start_candidate_run(session, owner, slug, request(name="m"))
    with pytest.raises(Conflict, match="no live release"):
        start_candidate_run(session, owner, make_product(session, owner), request())
    with pytest.raises(ValidationError, match="unknown provider 'nonsense'"):
        request(provider="nonsense")
