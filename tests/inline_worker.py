"""Executes queued run chunks inside the test's own transaction, through the same domain functions workers use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from evals import ProviderConfig, RunOptions, parse_suite, run_suite_sync
from governance.runs.execution import chunk_work, claim_chunk, complete_chunk, record_results


def run_queued_chunks(session: Session, worker: str = "inline-test-worker", limit: int = 1000) -> int:
    """Run every queued chunk with its real provider (the offline one in these tests); returns how many ran."""
    ran = 0
    while ran < limit:
        chunk = claim_chunk(session, worker)
        if chunk is None:
            return ran
        work = chunk_work(session, chunk.id)
        try:
            # Async tests call this too: the engine's own event loop runs in a thread of its own.
            with ThreadPoolExecutor(max_workers=1) as pool:
                report = pool.submit(
                    run_suite_sync,
                    parse_suite(work.spec),
                    templates=work.templates,
                    extra_vars=work.extra_vars,
                    options=RunOptions(provider=work.provider, use_cache=False),
                    provider_config=ProviderConfig(),
                    case_ids=work.case_ids,
                ).result()
        except Exception as exc:  # a template or configuration error fails the chunk, as in a worker
            complete_chunk(session, chunk.id, worker, error=str(exc))
        else:
            record_results(session, work.run_id, report.results)
            complete_chunk(session, chunk.id, worker, error=report.summary.error)
        ran += 1
    return ran
