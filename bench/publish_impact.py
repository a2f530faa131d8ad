"""Publish-impact benchmark: one document publish that re-releases 1,000 products, on SQLite and PostgreSQL.

Builds a catalogue on the real migrated schema (bulk inserts through SQLAlchemy core): products with an owner,
a prompt, a small eval suite and a live release; 2,000 documents; 500 processes that reference a few documents
each; product links to documents and processes. One document reaches exactly 1,000 products, some directly,
some through a process, some both. Then it times, through the real domain code:

* ``governance.catalog.components.publish_document`` in one ``service.database.unit_of_work``: the version, the impact
  walk, 1,000 releases cut with manifests, 1,000 older releases superseded, runs and chunks queued, one audit
  event per state change, and the commit. Median of N publishes, each with new content, after one warm-up;
* ``governance.impact.impacted_by_kind`` (what ``GET /api/v1/impact?document=...`` runs).

Both on a 10,000-product catalogue and on a 1,000-product one whose 1,000 products are all the affected ones:
the publish should cost the same on both, because it grows with the affected products, not the catalogue.

    .venv/bin/python bench/publish_impact.py [--quick] [--sqlite-only] [--postgres URL]

PostgreSQL databases ``<name>_1000`` and ``<name>_10000`` (default name ``steward_bench``) are dropped and
created afresh on every run; SQLite files go to bench/.work/.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from governance.accounts.models import User
from governance.accounts.users import get_user
from governance.audit.models import AuditEvent
from governance.audit.reading import verify_chain
from governance.audit.sealing import ChainKey, install_chain_key
from governance.audit.trail import GENESIS_HASH, event_hash
from governance.catalog.components import publish_document
from governance.catalog.impact import impacted_by_kind
from governance.catalog.models import Component, ComponentKind, ComponentVersion, ProcessDocument, Product, ProductLink
from governance.catalog.schemas import DocumentPublish
from governance.kernel.canonical import content_sha256
from governance.releases.manifests import build_manifests, manifest_hash
from governance.releases.models import Release
from governance.runs.models import Run, RunChunk
from service.database import make_engine, session_factory, unit_of_work
from service.migrate import upgrade

WORK = Path(__file__).resolve().parent / ".work"
DEFAULT_POSTGRES = os.environ.get(
    "STEWARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/steward_bench"
)

DOCUMENTS = 2_000
PROCESSES = 500
AFFECTED = 1_000
TARGET_DOCUMENT = "doc-0000"
# The processes that reference the target document; every other process stays clear of it.
TARGET_PROCESSES = 5
OWNERS = 50
TIERS = ("minimal", "limited", "high")
MODEL = {"provider": "offline", "name": "coach", "temperature": 0.2, "max_tokens": 600}
BATCH = 2_000
# The seeded chain and the publishes seal with one key, as a server's processes do with theirs.
CHAIN_KEY = ChainKey.derive(b"publish_impact bench")


# --- catalogue -----------------------------------------------------------------------------------


def suite_spec(name: str, cases: int) -> dict[str, Any]:
    """The shape of tests/factories.suite_spec: an offline suite with a few graded cases."""
    return {
        "version": 1,
        "name": name,
        "prompt": "system",
        "model": {"provider": "offline", "name": "coach"},
        "threshold": {"pass_rate": 0.9},
        "cases": [
            {
                "id": f"case-{i}",
                "vars": {"employee_message": f"message {i}"},
                "asserts": [{"type": "icontains", "value": "goal"}],
                "offline_output": f"A measurable goal number {i}.",
            }
            for i in range(cases)
        ],
    }


def document_content(index: int, revision: str = "v1") -> dict[str, Any]:
    body = "\n\n".join(
        f"## Section {s}\nEmployees and managers agree goals ({revision}); rule {index}.{s} applies." for s in range(6)
    )
    return {"title": f"HR policy {index}", "content": body, "content_type": "text/markdown"}


@dataclass
class Catalogue:
    url: str
    products: int
    affected_ids: list[int]
    build_seconds: float
    rows: dict[str, int] = field(default_factory=dict)


def _insert(conn, table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), rows[start : start + BATCH])


def _reset_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parsed.database
    # A guard against pointing the bench at a database someone else uses (the tests own ``test``).
    if not name or "bench" not in name:
        raise SystemExit(f"refusing to drop database '{name}': its name must contain 'bench'")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def build_catalogue(url: str, n_products: int, *, seed: int = 7) -> Catalogue:
    """A fresh database at ``url`` holding the catalogue; returns which product ids the target document reaches."""
    started = time.perf_counter()
    rng = random.Random(seed)
    _reset_database(url)
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    users = [
        {"id": 1, "name": "policy-owner", "display_name": "Policy owner", "roles": ["product_owner"], "created_at": now}
    ] + [
        {"id": 2 + i, "name": f"owner-{i:02d}", "display_name": "", "roles": ["product_owner"], "created_at": now}
        for i in range(OWNERS)
    ]
    # Affected products are spread over the whole id range, so the big catalogue is not one contiguous block.
    affected_ids = sorted(rng.sample(range(1, n_products + 1), AFFECTED))
    products = [
        {
            "id": pid,
            "slug": f"product-{pid:05d}",
            "name": f"Product {pid}",
            "description": "An AI assistant for HR.",
            "owner_id": 2 + pid % OWNERS,
            "intended_purpose": "Drafting assistance; no decisions about people.",
            "risk_tier": TIERS[pid % len(TIERS)],
            "model": MODEL,
            "lifecycle": "active",
            "created_at": now,
            "updated_at": now,
        }
        for pid in range(1, n_products + 1)
    ]
    components: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []

    def component(kind: str, name: str, content: dict[str, Any], *, product_id=None, owner_id=None) -> int:
        cid = len(components) + 1
        components.append(
            {
                "id": cid,
                "kind": kind,
                "product_id": product_id,
                "name": name,
                "owner_id": owner_id,
                "head_number": 1,
                "created_at": now,
            }
        )
        versions.append(
            {
                "id": cid,
                "component_id": cid,
                "number": 1,
                "sha256": content_sha256(content),
                "content": content,
                "author_id": owner_id or 1,
                "created_at": now,
                "message": "initial version",
            }
        )
        return cid

    documents = [component("document", f"doc-{i:04d}", document_content(i), owner_id=1) for i in range(DOCUMENTS)]
    target_doc = documents[0]
    other_docs = documents[1:]
    process_docs: list[dict[str, int]] = []
    processes = []
    for i in range(PROCESSES):
        refs = rng.sample(other_docs, rng.randint(2, 4))
        if i < TARGET_PROCESSES:
            refs = [target_doc, *refs[:2]]
        names = sorted(f"doc-{d - 1:04d}" for d in refs)
        content = {
            "name": f"HR process {i}",
            "description": "A step-by-step HR process.",
            "steps": [{"name": f"step {s}", "description": "Do the step.", "actor": "manager"} for s in range(4)],
            "documents": names,
        }
        pid = component("process", f"process-{i:03d}", content, owner_id=1)
        processes.append(pid)
        process_docs.extend({"process_id": pid, "document_id": d} for d in refs)
    target_processes, other_processes = processes[:TARGET_PROCESSES], processes[TARGET_PROCESSES:]
    links: set[tuple[int, int]] = set()
    for index, pid in enumerate(affected_ids):
        # A bit over half link the document directly, a bit over half through a process; a tenth do both.
        if index < 550:
            links.add((pid, target_doc))
        if index >= 450:
            links.add((pid, target_processes[index % TARGET_PROCESSES]))
    affected = set(affected_ids)
    for pid in range(1, n_products + 1):
        for doc in rng.sample(other_docs, rng.randint(1, 3)):
            links.add((pid, doc))
        # Unaffected products must not reach the target through a process, affected ones may use other processes.
        for proc in rng.sample(other_processes, rng.randint(0, 2 if pid not in affected else 1)):
            links.add((pid, proc))
    for pid in range(1, n_products + 1):
        owner = 2 + pid % OWNERS
        component("prompt", "system", {"template": f"You coach employees of product {pid}."}, product_id=pid)
        component("suite", "quality", {"spec": suite_spec("quality", 2 + pid % 2)}, product_id=pid)
        versions[-1]["author_id"] = versions[-2]["author_id"] = owner

    with engine.begin() as conn:
        _insert(conn, User.__table__, users)
        _insert(conn, Product.__table__, products)
        _insert(conn, Component.__table__, components)
        _insert(conn, ComponentVersion.__table__, versions)
        _insert(conn, ProcessDocument.__table__, process_docs)
        _insert(conn, ProductLink.__table__, [{"product_id": p, "component_id": c} for p, c in sorted(links)])
    rows = {
        "products": len(products),
        "components": len(components),
        "component_versions": len(versions),
        "process_documents": len(process_docs),
        "product_links": len(links),
    }
    rows.update(_seed_live_releases(engine, n_products, now))
    rows["audit_events"] = _seed_audit_chain(engine, products, components, now)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("users", "products", "components", "component_versions", "releases", "runs", "run_chunks"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return Catalogue(url, n_products, affected_ids, time.perf_counter() - started, rows)


def _seed_live_releases(engine: Engine, n_products: int, now: datetime) -> dict[str, int]:
    """Every product starts compliant: a live release of its current manifest with passed runs."""
    releases, runs, chunks = [], [], []
    with session_factory(engine)() as session:
        for start in range(1, n_products + 1, BATCH):
            batch = list(session.scalars(select(Product).where(Product.id.between(start, start + BATCH - 1))))
            for pid, manifest in build_manifests(session, batch).items():
                releases.append(
                    {
                        "id": pid,
                        "product_id": pid,
                        "number": 1,
                        "state": "live",
                        "manifest": manifest,
                        "manifest_hash": manifest_hash(manifest),
                        "cause": {"kind": "manual", "reason": "initial release", "author": "policy-owner"},
                        "created_by": "policy-owner",
                        "created_at": now,
                        "state_changed_at": now,
                        "cycle": 1,
                    }
                )
                planned = 2 + pid % 2
                runs.append(
                    {
                        "id": pid,
                        "release_id": pid,
                        "suite_name": "quality",
                        "suite_version": 1,
                        "manifest_hash": releases[-1]["manifest_hash"],
                        "provider": "offline:coach",
                        "offline": True,
                        "state": "passed",
                        "planned": planned,
                        "summary": {"passed": planned, "failed": 0, "errors": 0, "pass_rate": 1.0},
                        "created_at": now,
                        "created_by": "system",
                        "started_at": now,
                        "finished_at": now,
                    }
                )
                cases = [f"case-{i}" for i in range(planned)]
                chunks.append({"id": pid, "run_id": pid, "index": 0, "case_ids": cases, "state": "done"})
    with engine.begin() as conn:
        _insert(conn, Release.__table__, releases)
        _insert(conn, Run.__table__, runs)
        _insert(conn, RunChunk.__table__, chunks)
    return {"releases": len(releases), "runs": len(runs), "run_chunks": len(chunks)}


def _seed_audit_chain(engine: Engine, products, components, now: datetime) -> int:
    """A valid hash chain of what the seed did, so the publish appends to a realistic, verifiable trail."""
    slugs = {p["id"]: p["slug"] for p in products}
    events: list[dict[str, Any]] = []

    def append(actor: str, action: str, subject_type: str, subject: str, product: str | None, after) -> None:
        previous = events[-1]["hash"] if events else GENESIS_HASH
        event = SimpleNamespace(
            seq=len(events) + 1,
            occurred_at=now,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject=subject,
            product_slug=product,
            before=None,
            after=after,
            reason="",
            prev_hash=previous,
            key_id=CHAIN_KEY.key_id,
        )
        event.hash = event_hash(event, CHAIN_KEY)
        events.append({"id": event.seq, **vars(event)})

    for p in products:
        append("policy-owner", "product.created", "product", p["slug"], p["slug"], {"risk_tier": p["risk_tier"]})
    for c in components:
        product = slugs.get(c["product_id"])
        subject = c["name"] if product is None else f"{product}/{c['name']}"
        append("policy-owner", f"{c['kind']}.published", c["kind"], subject, product, {"version": 1})
    for p in products:
        append("policy-owner", "release.live", "release", f"{p['slug']}#1", p["slug"], {"state": "live"})
    with engine.begin() as conn:
        _insert(conn, AuditEvent.__table__, events)
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), (SELECT max(id) FROM audit_events))")
            )
    return len(events)


# --- measurements --------------------------------------------------------------------------------


@dataclass
class Measurement:
    database: str
    products: int
    affected: int
    build_seconds: float
    publishes: list[float]
    impact_ms: list[float]
    chain_ok: bool
    checks: list[str]

    @property
    def publish_median(self) -> float:
        return statistics.median(self.publishes)


def _publish(engine: Engine, revision: int) -> tuple[float, int]:
    """One timed publish of a new version of the target document; returns (seconds, releases cut)."""
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        actor = get_user(session, "policy-owner")
        content = document_content(
            0, revision=f"revision {revision} {hashlib.sha256(str(revision).encode()).hexdigest()}"
        )
        result = publish_document(
            session,
            actor,
            TARGET_DOCUMENT,
            DocumentPublish(message=f"revision {revision}", **content),
        )
        assert result.created, "the benchmark publishes new content every time"
    elapsed = time.perf_counter() - started
    with session_factory(engine)() as session:
        cut = session.scalar(
            select(func.count()).select_from(Release).where(Release.created_by == "policy-owner", Release.number > 1)
        )
    return elapsed, cut or 0


def _impact(engine: Engine) -> tuple[float, int]:
    with session_factory(engine)() as session:
        started = time.perf_counter()
        _component, found = impacted_by_kind(session, ComponentKind.document, TARGET_DOCUMENT)
        return (time.perf_counter() - started) * 1000, len(found)


def measure(catalogue: Catalogue, repeats: int) -> Measurement:
    engine = make_engine(catalogue.url)
    checks: list[str] = []
    try:
        _impact(engine)  # the first call pays for compiling the statement and a cold page cache
        impact_ms = []
        for _ in range(5):
            ms, found = _impact(engine)
            impact_ms.append(ms)
            if found != AFFECTED:
                checks.append(f"impact found {found} products, expected {AFFECTED}")
        # The warm-up publish cuts every affected product's first open release; the timed ones then also
        # supersede 1,000 open releases each, the expensive steady state.
        _publish(engine, 0)
        times = []
        for revision in range(1, repeats + 1):
            seconds, cut = _publish(engine, revision)
            times.append(seconds)
            if cut != AFFECTED * (revision + 1):
                checks.append(
                    f"after publish {revision}: {cut} releases cut in total, expected {AFFECTED * (revision + 1)}"
                )
        with session_factory(engine)() as session:
            states = dict(
                session.execute(select(Release.state, func.count()).group_by(Release.state)).all()  # type: ignore[arg-type]
            )
            if states.get("testing") != AFFECTED or states.get("superseded") != AFFECTED * repeats:
                checks.append(f"release states {states}")
            chain = verify_chain(session)
            if not chain.ok:
                checks.append(f"audit chain broken: {chain.problem}")
    finally:
        engine.dispose()
    return Measurement(
        database=engine.dialect.name,
        products=catalogue.products,
        affected=AFFECTED,
        build_seconds=catalogue.build_seconds,
        publishes=times,
        impact_ms=impact_ms,
        chain_ok=chain.ok,
        checks=checks,
    )


def markdown(results: list[Measurement]) -> str:
    lines = [
        "| database | catalogue | affected | publish median (s) | publishes (s) | per affected product (ms) "
        "| impact query median (ms) | catalogue build (s) | checks |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for m in results:
        lines.append(
            f"| {m.database} | {m.products:,} | {m.affected:,} | {m.publish_median:.2f} "
            f"| {', '.join(f'{t:.2f}' for t in m.publishes)} | {m.publish_median / m.affected * 1000:.2f} "
            f"| {statistics.median(m.impact_ms):.1f} | {m.build_seconds:.1f} "
            f"| {'ok' if not m.checks else '; '.join(m.checks)} |"
        )
    by = {(m.database, m.products): m for m in results}
    ratios = []
    for database in dict.fromkeys(m.database for m in results):
        big, small = by.get((database, 10_000)), by.get((database, 1_000))
        if big and small:
            ratios.append(
                f"- {database}: 10,000 / 1,000 products: publish x{big.publish_median / small.publish_median:.2f}, "
                f"impact x{statistics.median(big.impact_ms) / statistics.median(small.impact_ms):.2f}"
            )
    return "\n".join(lines) + ("\n\nCost ratio, big catalogue over small:\n" + "\n".join(ratios) if ratios else "")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed publish per catalogue instead of three")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="base URL; _1000 and _10000 are appended")
    parser.add_argument("--sizes", default="10000,1000", help="catalogue sizes (products), comma-separated")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    install_chain_key(CHAIN_KEY)
    repeats = 1 if args.quick else 3
    sizes = [int(s) for s in args.sizes.split(",")]
    targets = [("sqlite", lambda n: f"sqlite:///{WORK / f'publish_impact_{n}.sqlite'}")]
    if not args.sqlite_only:
        base = make_url(args.postgres)
        targets.append(("postgresql", lambda n: base.set(database=f"{base.database}_{n}").render_as_string(False)))
    results = []
    for name, url_of in targets:
        for n in sizes:
            print(f"[{name}] building a catalogue of {n:,} products ...", file=sys.stderr, flush=True)
            try:
                catalogue = build_catalogue(url_of(n), n)
            except Exception as exc:  # PostgreSQL not reachable: report SQLite alone rather than nothing
                if name == "postgresql":
                    print(f"[{name}] skipped: {exc}", file=sys.stderr)
                    break
                raise
            print(f"[{name}] built in {catalogue.build_seconds:.1f}s {catalogue.rows}; publishing ...", file=sys.stderr)
            results.append(measure(catalogue, repeats))
            print(f"[{name}] {n:,}: publishes {results[-1].publishes}", file=sys.stderr, flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(markdown(results))
    print(f"\n{os.cpu_count()} CPUs, load average {load} at the end; times are wall clock, commit included.")
    return 0 if all(not m.checks for m in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
