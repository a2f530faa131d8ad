"""Queuing runs of a release's suites, split into chunks that workers lease."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from evals import parse_suite
from governance.audit.events import Actor, actor_name
from governance.catalog import repository as components_repo
from governance.catalog.models import Product
from governance.kernel.db import utcnow
from governance.kernel.events import subscribe
from governance.kernel.unit_of_work import unit_of
from governance.releases.events import ReleasesCut
from governance.releases.models import Release
from governance.runs import repository as runs_repo
from governance.runs.models import ChunkState, RunPurpose, RunState


def provider_of(product: Product) -> str:
    return f"{product.model['provider']}:{product.model['name']}"


def suite_specs(session: Session, wanted: dict[tuple[int, str], int]) -> dict[tuple[int, str], dict[str, Any]]:
    """The spec of each wanted suite version, keyed by (product id, suite name), for many products at once."""
    specs: dict[tuple[int, str], dict[str, Any]] = {}
    product_ids = sorted({product_id for product_id, _ in wanted})
    numbers = sorted(set(wanted.values()))
    for product_id, name, number, content in components_repo.suite_contents(session, product_ids, numbers):
        if product_id is not None and wanted.get((product_id, name)) == number:
            specs[(product_id, name)] = content["spec"]
    return specs


def planned_cases(spec: dict[str, Any]) -> list[tuple[str, int]]:
    """The (case id, repeats) a run of the suite executes, read from the spec without parsing it when it can be.

    A suite with a fairness block runs the variants the engine generates in place of its base cases, so only
    that suite is parsed (its spec was checked when it was published).
    """
    if "fairness" not in spec:
        return [(case["id"], int(case.get("repeat") or 1)) for case in spec["cases"]]
    return [(case.id, case.repeat) for case in parse_suite(spec, source="suite").cases]


def note_queued(session: Session, chunk_ids: list[int]) -> None:
    """Remember chunks queued in this transaction; the edge hands them to the executor after commit."""
    unit_of(session).queued_chunks.extend(chunk_ids)


def queue_runs_many(
    session: Session,
    items: Sequence[tuple[Release, Product]],
    *,
    actor: Actor,
    chunk_size: int,
    purpose: RunPurpose = RunPurpose.release,
    provider: str | None = None,
) -> list[int]:
    """One queued run per suite of each (testable) release and its chunks, in two inserts whatever the count.

    A publish that cuts 1,000 releases queues their runs here: one query for the suite specs of every product
    and one bulk insert each for runs and chunks, instead of a query and two flushes per
    release. Plain rows, not objects: nothing in this transaction reads the runs back as objects, and the
    unit of work's bookkeeping per object cost more than the inserts. ``provider`` (``name:model``) runs the
    suites on another model than the product's (a candidate run). Returns the new runs' ids.
    """
    wanted = {
        (product.id, name): entry["version"]
        for release, product in items
        for name, entry in release.manifest["suites"].items()
    }
    specs = suite_specs(session, wanted)
    creator = actor_name(actor)
    now = utcnow()
    run_rows: list[dict[str, Any]] = []
    case_lists: list[list[str]] = []
    for release, product in items:
        suites = release.manifest["suites"]
        for name in sorted(suites):
            cases = planned_cases(specs[(product.id, name)])
            run_rows.append(
                {
                    "release_id": release.id,
                    "suite_name": name,
                    "suite_version": suites[name]["version"],
                    "manifest_hash": release.manifest_hash,
                    "provider": provider or provider_of(product),
                    "offline": (provider or provider_of(product)).split(":", 1)[0] == "offline",
                    "purpose": purpose.value,
                    "state": RunState.queued.value,
                    "attempt": 1,
                    "planned": sum(repeat for _, repeat in cases),
                    "created_at": now,
                    "created_by": creator,
                }
            )
            case_lists.append([case_id for case_id, _ in cases])
    if not run_rows:
        return []
    session.flush()  # pending objects (the releases these runs point at) go first
    run_ids = runs_repo.insert_runs(session, run_rows)
    chunk_rows = [
        {
            "run_id": run_id,
            "index": index,
            "case_ids": case_ids[start : start + chunk_size],
            "state": ChunkState.queued.value,
            "attempts": 0,
        }
        for run_id, case_ids in zip(run_ids, case_lists, strict=True)
        for index, start in enumerate(range(0, max(len(case_ids), 1), chunk_size))
    ]
    chunk_ids = runs_repo.insert_chunks(session, chunk_rows)
    note_queued(session, chunk_ids)
    return run_ids


@subscribe(ReleasesCut)
def queue_runs_of_cut_releases(session: Session, event: ReleasesCut) -> None:
    queue_runs_many(session, event.testable, actor=event.actor, chunk_size=event.chunk_size)
