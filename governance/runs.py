"""Queuing runs of a release's suites, split into chunks that workers lease."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.models import Component, ComponentKind, ComponentVersion, Product, User
from governance.release_tables import Policy, Release, ReleaseState, Run, RunChunk
from governance.workflow import transition

QUEUED_CHUNKS_KEY = "steward.queued_chunks"


def provider_of(product: Product) -> str:
    return f"{product.model['provider']}:{product.model['name']}"


def suite_versions(session: Session, product_id: int, wanted: dict[str, int]) -> dict[str, ComponentVersion]:
    if not wanted:
        return {}
    rows = session.execute(
        select(Component.name, ComponentVersion)
        .join(ComponentVersion, ComponentVersion.component_id == Component.id)
        .where(
            Component.product_id == product_id,
            Component.kind == ComponentKind.suite.value,
            Component.name.in_(list(wanted)),
        )
    ).all()
    return {name: version for name, version in rows if wanted[name] == version.number}


def note_queued(session: Session, chunk_ids: list[int]) -> None:
    """Remember chunks queued in this transaction; the edge hands them to the executor after commit."""
    session.info.setdefault(QUEUED_CHUNKS_KEY, []).extend(chunk_ids)


def queue_runs(
    session: Session, release: Release, product: Product, policy: Policy, *, actor: User | str, chunk_size: int
) -> list[Run]:
    """Create one queued run per suite in the release's manifest, or fail the release if it cannot be tested."""
    suites = release.manifest["suites"]
    missing = [name for name in policy.required_suites if name not in suites]
    problem = None
    if not suites:
        problem = "the product has no eval suites: publish one, or sign off with a written waiver"
    elif missing:
        problem = f"the {policy.risk_tier} policy requires suites this product lacks: {', '.join(missing)}"
    if problem:
        release.error = problem
        transition(
            session,
            release,
            ReleaseState.failed,
            actor="system",
            action="release.failed",
            product_slug=product.slug,
            reason=problem,
        )
        return []
    versions = suite_versions(session, product.id, {name: entry["version"] for name, entry in suites.items()})
    creator = actor.name if isinstance(actor, User) else actor
    runs, chunk_rows = [], []
    for name in sorted(suites):
        spec = versions[name].content["spec"]
        cases = [(case["id"], int(case.get("repeat") or 1)) for case in spec["cases"]]
        run = Run(
            release_id=release.id,
            suite_name=name,
            suite_version=suites[name]["version"],
            manifest_hash=release.manifest_hash,
            provider=provider_of(product),
            offline=product.model["provider"] == "offline",
            planned=sum(repeat for _, repeat in cases),
            created_by=creator,
        )
        session.add(run)
        runs.append((run, [case_id for case_id, _ in cases]))
    session.flush()
    for run, case_ids in runs:
        for index, start in enumerate(range(0, max(len(case_ids), 1), chunk_size)):
            chunk_rows.append(RunChunk(run_id=run.id, index=index, case_ids=case_ids[start : start + chunk_size]))
    session.add_all(chunk_rows)
    session.flush()
    note_queued(session, [chunk.id for chunk in chunk_rows])
    return [run for run, _ in runs]
