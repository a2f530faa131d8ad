"""Home at 1,000 products: the median time of `GET /` on an idle server, for an owner and for a reviewer.

Seeds the demo (users and the reference product, its first release testing) into a fresh database, then adds
products up to ``--products`` with bulk inserts that copy the reference product's rows: 60% live and compliant,
10% live with a passed change waiting for the owner's sign-off, 10% live with a signed-off change waiting for
reviewers, 10% with a first release testing, 10% without releases. Pending changes fall due between 5 days ago
and 40 days ahead. olivia owns one product in five; four other owners share the rest.

Then it fetches home through the real app (FastAPI's TestClient, in process) signed in as olivia and as rita:
one warm-up, then ``--requests`` timed requests of each view; it prints the median and the 90th percentile of the
wall time, the median CPU time of the process per request (client and server share the process: the steadier
number on a shared machine), and the SQL statements one request runs (which must not grow with the products).

    .venv/bin/python bench/home.py [--products 1000] [--requests 30] [--postgres URL]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import Engine, make_url

from governance.accounts import users as accounts
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.audit.sealing import ChainKey, install_chain_key
from governance.catalog.models import Product
from governance.kernel.db import utcnow
from governance.releases.models import Release, SignOff
from service.app import create_app
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.seed import seed_demo
from service.settings import PROJECT_ROOT, Settings

STEWARD_YAML = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_MS = 150
OTHER_OWNERS = ("oscar", "opal", "otto", "oona")
TIERS = ("minimal", "limited", "high")
VIEWS = {
    "olivia: /": ("olivia", "/"),
    "rita: /": ("rita", "/"),
    "olivia: /?sort=due&page=10": ("olivia", "/?sort=due&page=10"),
    "rita: /?q=assistant 12&sort=risk": ("rita", "/?q=assistant+12&sort=risk"),
}


def columns(row: Any, table: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in table.__table__.columns if column.key != "id"}


def seed_catalogue(engine: Engine, count: int) -> dict[str, str]:
    with unit_of_work(engine) as session:
        tokens = seed_demo(session, STEWARD_YAML).tokens
        for name in OTHER_OWNERS:
            accounts.create_user(session, None, UserCreate(name=name, roles=[Role.product_owner]))
    with unit_of_work(engine) as session:
        template = session.scalars(select(Product).where(Product.slug == "goal-coach")).one()
        release = session.scalars(select(Release).where(Release.product_id == template.id)).first()
        assert release is not None
        owners = [accounts.get_user(session, name) for name in ("olivia", *OTHER_OWNERS)]
        product_row, release_row = columns(template, Product), columns(release, Release)
        now = utcnow()
        products = []
        for index in range(count - 1):
            owner = owners[0] if index % 5 == 0 else owners[1 + index % len(OTHER_OWNERS)]
            products.append(
                {
                    **product_row,
                    "slug": f"hr-assistant-{index:04d}",
                    "name": f"HR assistant {index:04d}",
                    "owner_id": owner.id,
                    "risk_tier": TIERS[index % len(TIERS)],
                }
            )
        session.execute(insert(Product), products)
        ids = {slug: product_id for slug, product_id in session.execute(select(Product.slug, Product.id))}
        releases, signed = [], []
        for index in range(count - 1):
            product_id, kind = ids[f"hr-assistant-{index:04d}"], index % 10
            due = now + timedelta(days=(index % 46) - 5)
            live = {**release_row, "product_id": product_id, "number": 1, "state": "live", "revalidation_due_at": None}
            if kind <= 5:
                releases.append(live)
            elif kind in (6, 7):
                state = "passed" if kind == 6 else "signed_off"
                releases += [live, {**live, "number": 2, "state": state, "revalidation_due_at": due}]
                if kind == 7:
                    signed.append(product_id)
            elif kind == 8:
                releases.append({**live, "state": "testing"})
        session.execute(insert(Release), releases)
        pending = session.execute(
            select(Release.id, Release.manifest_hash).where(
                Release.product_id.in_(signed), Release.state == "signed_off"
            )
        ).all()
        session.execute(
            insert(SignOff),
            [
                {"release_id": rid, "manifest_hash": mh, "cycle": 1, "actor": "olivia", "note": "", "created_at": now}
                for rid, mh in pending
            ],
        )
    return tokens


def measure(engine: Engine, settings: Settings, tokens: dict[str, str], requests: int) -> list[dict[str, Any]]:
    results = []
    app = create_app(settings, engine=engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for label, (name, path) in VIEWS.items():
        with TestClient(app) as client:
            csrf = CSRF.search(client.get("/sign-in").text)
            assert csrf is not None
            client.post("/sign-in", data={"csrf_token": csrf.group(1), "token": tokens[name], "next": "/"})
            assert client.get(path).status_code == 200  # warm-up
            statements.clear()
            assert client.get(path).status_code == 200
            queries = len(statements)
            times, cpu = [], []
            for _ in range(requests):
                started, cpu_started = time.perf_counter(), time.process_time()
                page = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                assert page.status_code == 200, page.text
        times.sort()
        results.append(
            {
                "view": label,
                "median_ms": statistics.median(times),
                "p90_ms": times[int(0.9 * (len(times) - 1))],
                "cpu_ms": statistics.median(cpu),
                "queries": queries,
                "bytes": len(page.content),
            }
        )
    return results


def run(url: str, products: int, requests: int, folder: Path) -> None:
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, var_dir=folder / "var", executor="none")
    tokens = seed_catalogue(engine, products)
    database = make_url(url).get_backend_name()
    print(f"\n{database}, {products} products, {requests} requests per view (target: median < {TARGET_MS} ms)\n")
    print("| database | view | median ms | p90 ms | CPU ms (median) | SQL statements | bytes |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in measure(engine, settings, tokens, requests):
        timing = f"{r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['cpu_ms']:.1f}"
        print(f"| {database} | {r['view']} | {timing} | {r['queries']} | {r['bytes']:,} |")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", help="also on this PostgreSQL database (its schema dropped and created afresh)")
    args = parser.parse_args()
    install_chain_key(ChainKey.derive(b"home bench"))
    folder = Path(tempfile.mkdtemp(prefix="steward-home-bench-"))
    run(f"sqlite:///{folder / 'steward.db'}", args.products, args.requests, folder)
    if args.postgres:
        scratch = make_engine(args.postgres)
        with scratch.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        scratch.dispose()
        run(args.postgres, args.products, args.requests, folder)


if __name__ == "__main__":
    main()
