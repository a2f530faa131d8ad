"""Executing runs, the domain side: lease a chunk, describe its work, record results, finish runs and releases.

Workers (embedded in the server, or Celery processes) call these in short transactions of their own; the
model calls happen between them, outside any transaction. Delivery is at least once: a chunk whose worker
died is leased again when its lease expires, and results are keyed by (run, case, repeat) so a second
delivery writes nothing twice. A chunk that keeps failing becomes an error, and an error is never a pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from evals import CaseRef, CaseResult, Summary, parse_suite, summarize
from evals.fairness.analysis import analyse_sync, with_fairness
from evals.fairness.spec import stricter
from governance.audit.trail import begin_write, record_event
from governance.catalog import repository as components_repo
from governance.catalog.content import VersionedContent, template_variables
from governance.catalog.models import ComponentKind
from governance.kernel.db import utcnow
from governance.kernel.events import subscribe
from governance.releases.cutting import fail_release
from governance.releases.events import ReleasesClosed
from governance.releases.models import ReleaseState
from governance.releases.policies import get_policy
from governance.releases.reading import get_release
from governance.releases.workflow import transition
from governance.runs import repository as runs_repo
from governance.runs.models import FINISHED_RUN_STATES, ChunkState, Run, RunChunk, RunState

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ChunkWork:
    """Everything a worker needs to execute one chunk, read in one short transaction."""

    chunk_id: int
    run_id: int
    case_ids: list[str]
    spec: dict[str, Any]
    templates: dict[str, str]
    extra_vars: dict[str, Any]
    provider: str
    attempt: int


def claim_chunk(
    session: Session, worker: str, *, chunk_id: int | None = None, lease_seconds: float = 60
) -> RunChunk | None:
    """Lease a queued chunk (or one whose lease expired) to ``worker``; None when there is nothing to take."""
    chunk = runs_repo.claimable_chunk(session, utcnow(), chunk_id=chunk_id)
    if chunk is None:
        return None
    now = utcnow()
    chunk.attempts += 1
    run = runs_repo.get_run(session, chunk.run_id)
    if chunk.attempts > MAX_ATTEMPTS:
        # Finishing the run needs the audit chain's lock, which must come before row locks: leave that to
        # finish_stalled_runs, which the sweeps call.
        chunk.state, chunk.lease_owner = ChunkState.error, None
        chunk.error = (chunk.error or "") + f" gave up after {MAX_ATTEMPTS} attempts (workers died or timed out)"
        session.flush()
        return None
    chunk.state = ChunkState.running
    chunk.lease_owner = worker
    chunk.lease_expires_at = now + timedelta(seconds=lease_seconds)
    if run.state == RunState.queued.value:
        run.state, run.started_at = RunState.running, now
    session.flush()
    return chunk


def renew_lease(session: Session, chunk_id: int, worker: str, lease_seconds: float = 60) -> bool:
    """Extend a lease the worker still holds; False means another worker has taken the chunk over."""
    return runs_repo.extend_lease(session, chunk_id, worker, until=utcnow() + timedelta(seconds=lease_seconds))


def _content(session: Session, kind: ComponentKind, name: str, number: int, product_id: int | None) -> dict[str, Any]:
    return components_repo.version_of(session, kind, name, number, product_id).content


def _shared_contents(session: Session, kind: ComponentKind, entries: dict[str, Any]) -> dict[str, VersionedContent]:
    """The content of each document or process in a manifest section, at the version the manifest names."""
    return {
        slug: (_content(session, kind, slug, entry["version"], None), entry["version"])
        for slug, entry in entries.items()
    }


def spec_as_run(spec: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    """A suite's spec as the server runs it for a release of a product whose model settings are ``model``."""
    spec = dict(spec)
    # The product's model settings are what employees get; the suite's are only defaults.
    spec["model"] = {**spec.get("model", {}), **model}
    # A run is one prompt on one model (results are keyed by case and repeat): a suite's prompt x provider
    # matrix is for local comparisons; the server runs its first prompt on the run's provider.
    prompts = spec.pop("prompts", None)
    spec.pop("providers", None)
    if prompts and not spec.get("prompt"):
        spec["prompt"] = prompts[0]
    return spec


def run_context(session: Session, manifest: dict[str, Any], product_id: int) -> tuple[dict[str, str], dict[str, Any]]:
    """The prompt templates and the ``documents``/``processes`` variables a release with ``manifest`` runs with."""
    templates = {
        name: _content(session, ComponentKind.prompt, name, entry["version"], product_id)["template"]
        for name, entry in manifest["prompts"].items()
    }
    extra_vars = template_variables(
        _shared_contents(session, ComponentKind.document, manifest["documents"]),
        _shared_contents(session, ComponentKind.process, manifest["processes"]),
    )
    return templates, extra_vars


def chunk_work(session: Session, chunk_id: int) -> ChunkWork:
    """The suite, templates and context a chunk runs with: exactly the versions in the release's manifest."""
    chunk = runs_repo.get_chunk(session, chunk_id)
    run = runs_repo.get_run(session, chunk.run_id)
    release = get_release(session, run.release_id)
    product_id = release.product_id
    manifest = release.manifest
    spec = spec_as_run(
        _content(session, ComponentKind.suite, run.suite_name, run.suite_version, product_id)["spec"],
        manifest["model"],
    )
    templates, extra_vars = run_context(session, manifest, product_id)
    return ChunkWork(
        chunk_id=chunk.id,
        run_id=run.id,
        case_ids=list(chunk.case_ids),
        spec=spec,
        templates=templates,
        extra_vars=extra_vars,
        provider=run.provider,
        attempt=chunk.attempts,
    )


def record_results(session: Session, run_id: int, results: list[CaseResult]) -> int:
    """Write case results; a result already written (a redelivered chunk) is left as it is."""
    if not results:
        return 0
    rows = [
        {
            "run_id": run_id,
            "case_id": r.case_id,
            "repeat_index": r.repeat_index,
            "outcome": r.outcome,
            "result": r.model_dump(mode="json"),
            "created_at": utcnow(),
        }
        for r in results
    ]
    return runs_repo.insert_case_results(session, rows)


def complete_chunk(
    session: Session, chunk_id: int, worker: str, *, error: str | None = None, finish_run: bool = True
) -> bool:
    """Mark a leased chunk done (or errored) and finish its run when it was the last. False: the lease was lost.

    With ``finish_run=False`` the run is left for :func:`judge_run` and :func:`record_verdict`, so that working
    out its summary (every result read back, the fairness analysis) does not hold the write lock.
    """
    begin_write(session)
    chunk = runs_repo.lock_chunk(session, chunk_id)
    if chunk.lease_owner != worker or chunk.state != ChunkState.running.value:
        return False
    chunk.state = ChunkState.error if error else ChunkState.done
    chunk.error, chunk.lease_owner, chunk.lease_expires_at = error, None, None
    session.flush()
    if finish_run:
        finish_run_if_complete(session, chunk.run_id)
    return True


def requeue_expired(session: Session) -> list[int]:
    """Chunks whose worker stopped renewing its lease: queue them again (or error out past the attempt limit)."""
    begin_write(session)
    requeued = []
    for chunk in runs_repo.expired_chunks(session, utcnow()):
        if chunk.attempts >= MAX_ATTEMPTS:
            chunk.state, chunk.lease_owner = ChunkState.error, None
            chunk.error = f"gave up after {MAX_ATTEMPTS} attempts: the worker stopped (killed or timed out)"
            session.flush()
            finish_run_if_complete(session, chunk.run_id)
        else:
            chunk.state, chunk.lease_owner, chunk.lease_expires_at = ChunkState.queued, None, None
            requeued.append(chunk.id)
    session.flush()
    finish_stalled_runs(session)
    return requeued


def finish_stalled_runs(session: Session) -> int:
    """Finish runs whose chunks are all final but that nobody finished (their last chunk gave up while claimed)."""
    begin_write(session)
    stalled = runs_repo.stalled_run_ids(session)
    for run_id in stalled:
        finish_run_if_complete(session, run_id)
    return len(stalled)


def cancel_queued_work(session: Session, release_ids: list[int]) -> int:
    """Superseded or rejected releases need no more evidence: cancel their chunks no worker has taken yet.

    Chunks already running finish and are recorded (their runs then end without a verdict that counts, since
    the release is no longer testing); runs with nothing left running are marked cancelled at once.
    Returns the number of chunks cancelled.
    """
    if not release_ids:
        return 0
    cancelled = runs_repo.cancel_queued_chunks(
        session, release_ids, error="not run: its release was superseded or rejected"
    )
    runs_repo.cancel_idle_runs(
        session, release_ids, now=utcnow(), error="cancelled: its release was superseded or rejected"
    )
    return cancelled


@subscribe(ReleasesClosed)
def cancel_work_of_closed_releases(session: Session, event: ReleasesClosed) -> None:
    cancel_queued_work(session, event.release_ids)


def queued_chunk_ids(session: Session, limit: int = 1000) -> list[int]:
    """Chunks a worker could claim now (queued, or leased by a worker that stopped renewing), oldest first."""
    return runs_repo.claimable_chunk_ids(session, utcnow(), limit=limit)


@dataclass(frozen=True)
class RunVerdict:
    """A complete run's summary, worked out from its recorded results; :func:`record_verdict` writes it."""

    run_id: int
    summary: Summary
    errors: str


def run_of_chunk(session: Session, chunk_id: int) -> int:
    """The id of the run a chunk belongs to."""
    return runs_repo.get_chunk(session, chunk_id).run_id


def judge_run(session: Session, run_id: int) -> RunVerdict | None:
    """The summary of a run whose chunks are all done or errored; None while any is queued or running, or once finished.

    It only reads, so a worker calls it in a reading transaction: once every chunk is final the run's results
    cannot change, and summarising them (a fairness analysis can take seconds) must not keep writers waiting.
    """
    run = runs_repo.get_run(session, run_id)
    if RunState(run.state) in FINISHED_RUN_STATES:
        return None
    chunks = runs_repo.chunks_of_run(session, run_id)
    if any(c.state in (ChunkState.queued.value, ChunkState.running.value) for c in chunks):
        return None
    release = get_release(session, run.release_id)
    product = components_repo.get_product_by_id(session, release.product_id)
    policy = get_policy(session, product.risk_tier)
    spec = _content(session, ComponentKind.suite, run.suite_name, run.suite_version, product.id)["spec"]
    suite = parse_suite(spec, source=f"suite '{run.suite_name}' v{run.suite_version}")
    results = [CaseResult.model_validate(row.result) for row in runs_repo.case_results_of_run(session, run_id)]
    done = {(r.case_id, r.repeat_index) for r in results}
    not_run = [
        CaseRef(case_id=case.id, repeat_index=i)
        for case in suite.cases
        for i in range(case.repeat or 1)
        if (case.id, i) not in done
    ]
    errors = "; ".join(c.error for c in chunks if c.error)
    summary, _cases = summarize(
        suite.cases,
        results,
        planned_runs=run.planned,
        not_run=not_run,
        threshold=max(suite.threshold.pass_rate, policy.min_pass_rate),
        provider=run.provider,
        offline=run.offline,
        error=errors or None,
    )
    plan = suite._fairness_plan
    if plan is not None:
        # judged on the whole run (chunks hold only some variants); no embeddings here, so the string ratio
        planned = {case.id: case.repeat or 1 for case in suite.cases}
        thresholds = stricter(plan.spec.thresholds, policy.fairness_thresholds or {})
        fairness = analyse_sync(plan, results, offline=run.offline, planned=planned, thresholds=thresholds)
        summary = with_fairness(summary, fairness)
    return RunVerdict(run_id, summary, errors)


def record_verdict(session: Session, verdict: RunVerdict) -> Run | None:
    """Finish the run with ``verdict`` (and its release, when it was the last run); None if it is not complete.

    Checked again under the run's lock: of two workers that judged the same run, the first to write finishes
    it and the second finds it finished and writes nothing.
    """
    begin_write(session)
    run = runs_repo.lock_run(session, verdict.run_id)
    if RunState(run.state) in FINISHED_RUN_STATES:
        return run
    chunks = runs_repo.chunks_of_run(session, run.id)
    if any(c.state in (ChunkState.queued.value, ChunkState.running.value) for c in chunks):
        return None  # a chunk was re-queued since the verdict was worked out: its results are not all in
    release = get_release(session, run.release_id)
    product = components_repo.get_product_by_id(session, release.product_id)
    summary = verdict.summary
    run.state = RunState(summary.status)
    run.summary = summary.model_dump(mode="json")
    run.error = summary.error or verdict.errors or None
    run.finished_at = utcnow()
    session.flush()
    record_event(
        session,
        actor="system",
        action=f"run.{run.state}",
        subject_type="run",
        subject=f"{product.slug}#{release.number}/{run.suite_name}",
        product_slug=product.slug,
        after={"run_id": run.id, "state": run.state, "pass_rate": summary.pass_rate, "error": run.error},
    )
    finish_release_if_complete(session, release.id)
    return run


def finish_run_if_complete(session: Session, run_id: int) -> Run | None:
    """When every chunk of a run is done or errored, summarise it from its recorded results (in this transaction)."""
    run = runs_repo.lock_run(session, run_id)
    if RunState(run.state) in FINISHED_RUN_STATES:
        return run
    verdict = judge_run(session, run_id)
    return None if verdict is None else record_verdict(session, verdict)


def current_runs(session: Session, release_id: int) -> list[Run]:
    """The newest run of each suite of a release: re-runs replace earlier ones as evidence."""
    latest: dict[str, Run] = {}
    for run in runs_repo.runs_of_release(session, release_id):
        latest[run.suite_name] = run
    return list(latest.values())


def finish_release_if_complete(session: Session, release_id: int) -> None:
    """A testing release whose runs have all finished becomes passed (all passed) or failed (anything else)."""
    release = get_release(session, release_id, for_update=True)
    if release.state != ReleaseState.testing.value:
        return  # superseded or rejected meanwhile: its runs are history, not a verdict
    runs = current_runs(session, release_id)
    if not runs or any(RunState(r.state) not in FINISHED_RUN_STATES for r in runs):
        return
    product = components_repo.get_product_by_id(session, release.product_id)
    bad = [r for r in runs if r.state != RunState.passed.value]
    if bad:
        problem = "; ".join(
            f"suite '{r.suite_name}' {r.state}"
            + (f": {r.error}" if r.error else "")
            + (f" (pass rate {r.summary['pass_rate']:.0%})" if r.summary else "")
            for r in bad
        )
        fail_release(session, release, product, problem)
    else:
        release.error = None
        transition(
            session, release, ReleaseState.passed, actor="system", action="release.passed", product_slug=product.slug
        )
