"""Candidate-model runs: the live release's suites on another model, shown beside the live model's results.

"Does the coach still pass on the new model?" A product owner asks it before changing the model behind
a product. One call queues one run per suite of the live release's manifest (the same suite versions,
prompts, documents and model parameters) with only the provider and model name replaced. The runs are
never evidence: releases are decided on their own runs (``runs_of_release`` reads release runs only)
and re-certification settles only its own runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy.orm import Session

from evals.providers import provider_names
from governance.accounts.models import User
from governance.audit.trail import record_event
from governance.catalog.models import Product
from governance.catalog.permissions import require_product_manager
from governance.catalog.products import get_product
from governance.kernel.errors import Conflict
from governance.kernel.fields import Strict, Text
from governance.kernel.unit_of_work import unit_of
from governance.releases.models import Release
from governance.runs import repository as runs_repo
from governance.runs.execution import current_runs
from governance.runs.models import Run, RunPurpose
from governance.runs.queueing import queue_runs_many


class CandidateModel(Strict):
    """The model to try; temperature and max_tokens stay the live release's, so only the model changes."""

    provider: Annotated[Text, Field(min_length=1, max_length=64, description="offline, openai, ...")]
    name: Annotated[Text, Field(min_length=1, max_length=200, description="Model name at the provider.")]

    @field_validator("provider")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in provider_names():
            raise ValueError(f"unknown provider {value!r}; known: {', '.join(provider_names())}")
        return value

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.name}"


class CandidateRunRequest(Strict):
    """POST body of a candidate-model run."""

    model: CandidateModel = Field(description="The model to run the live release's suites on.")


class CandidateRunsStarted(Strict):
    """What a candidate-model run queued."""

    product: str = Field(description="The product's slug.")
    release: int = Field(description="The live release's number whose suites run.")
    model: str = Field(description="The candidate model, provider:name.")
    run_ids: list[int] = Field(description="One run per suite of the release.")


@dataclass(frozen=True)
class RunCell:
    """One suite's run on one model, as the comparison shows it."""

    run_id: int
    provider: str
    state: str
    pass_rate: float | None


@dataclass(frozen=True)
class SuiteComparison:
    """A suite of the live release: the live model's evidence beside each candidate model's latest run."""

    suite: str
    live: RunCell | None
    candidates: list[RunCell]


@dataclass(frozen=True)
class CandidateComparison:
    """The live release's suites, live model against candidate models; ``providers`` are the columns."""

    release_id: int
    release_number: int
    live_provider: str
    providers: list[str]
    """Candidate models, in the order they were first tried."""
    suites: list[SuiteComparison]

    def cell(self, suite: SuiteComparison, provider: str) -> RunCell | None:
        return next((c for c in suite.candidates if c.provider == provider), None)


def _cell(run: Run) -> RunCell:
    summary: dict[str, Any] = run.summary or {}
    rate = summary.get("pass_rate")
    return RunCell(run.id, run.provider, str(run.state), float(rate) if rate is not None else None)


def _model_of(release: Release) -> str:
    """The model the release went live on, ``provider:name``, as its runs name it."""
    model = release.manifest["model"]
    return f"{model['provider']}:{model['name']}"


def _live_release(session: Session, product: Product) -> Release:
    release = runs_repo.live_release(session, product.id)
    if release is None:
        raise Conflict(f"'{product.slug}' has no live release to try on another model", field="slug")
    return release


def start_candidate_run(session: Session, actor: User, slug: str, request: CandidateRunRequest) -> CandidateRunsStarted:
    """Queue the live release's suites on the candidate model (the product's owner or an admin)."""
    product = get_product(session, slug)
    require_product_manager(actor, product, action="trying a product on another model")
    release = _live_release(session, product)
    spec = request.model.spec
    if spec == _model_of(release):
        raise Conflict(f"'{slug}' already runs on {spec}: its live results are that model's", field="model")
    run_ids = queue_runs_many(
        session,
        [(release, product)],
        actor=actor,
        chunk_size=unit_of(session).chunk_size,
        purpose=RunPurpose.candidate,
        provider=spec,
    )
    record_event(
        session,
        actor=actor,
        action="candidate.started",
        subject_type="release",
        subject=f"{product.slug}#{release.number}",
        product_slug=product.slug,
        after={"release_id": release.id, "model": spec, "run_ids": run_ids},
    )
    return CandidateRunsStarted(product=product.slug, release=release.number, model=spec, run_ids=run_ids)


def candidate_comparison(session: Session, product: Product) -> CandidateComparison | None:
    """The live release's suites: its evidence beside each candidate model's latest run; None without a live release."""
    release = runs_repo.live_release(session, product.id)
    if release is None:
        return None
    live = {run.suite_name: run for run in current_runs(session, release.id)}
    latest: dict[tuple[str, str], Run] = {}
    for run in runs_repo.runs_of_release_for(session, release.id, RunPurpose.candidate):
        latest[(run.suite_name, run.provider)] = run  # oldest first: the newest wins
    providers = list(dict.fromkeys(provider for _, provider in latest))
    suites = [
        SuiteComparison(
            suite=name,
            live=_cell(live[name]) if name in live else None,
            candidates=[_cell(latest[(name, p)]) for p in providers if (name, p) in latest],
        )
        for name in sorted(release.manifest["suites"])
    ]
    return CandidateComparison(release.id, release.number, _model_of(release), providers, suites)


def product_candidates(session: Session, slug: str) -> CandidateComparison | None:
    """:func:`candidate_comparison` of a product by slug."""
    return candidate_comparison(session, get_product(session, slug))
