"""Candidate-model runs: a product's live release on another model, beside the live model's results."""

from __future__ import annotations

from fastapi import APIRouter, status

from governance.runs.candidates import (
    CandidateComparison,
    CandidateRunRequest,
    CandidateRunsStarted,
    product_candidates,
    start_candidate_run,
)
from service.api.deps import CurrentUser, DbSession

router = APIRouter(tags=["candidate models"])


@router.post(
    "/products/{slug}/candidate-runs",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run the live release's suites on another model, to compare with the live model (owner or admin).",
)
def start(slug: str, body: CandidateRunRequest, session: DbSession, actor: CurrentUser) -> CandidateRunsStarted:
    """Queue one run per suite of the live release's manifest on ``body.model``; never evidence for a release."""
    return start_candidate_run(session, actor, slug, body)


@router.get(
    "/products/{slug}/candidate-runs",
    summary="The live release's suites: the live model's results beside each candidate model's latest run.",
)
def compare(slug: str, session: DbSession, actor: CurrentUser) -> CandidateComparison | None:
    """The live model's evidence beside each candidate model's latest run, per suite; null without a live release."""
    return product_candidates(session, slug)
