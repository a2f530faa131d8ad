"""Concurrent decisions on one release are serialised on PostgreSQL: no lost update, no approval of a stale manifest.

These requests really run at the same time: each is its own committed transaction on its own connection
(sync endpoints run in the server's thread pool), against a database of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from governance.accounts.roles import Role
from governance.audit.models import AuditEvent
from governance.audit.reading import verify_chain
from governance.releases.models import Decision, Release
from service.app import create_app
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import Settings
from tests.conftest import POSTGRES_URL, accept_offline_evidence
from tests.factories import auth, make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs STEWARD_TEST_POSTGRES_URL (PostgreSQL)"),
]

# Named after the test database, so test runs against different databases of one server never collide.
DATABASE = f"{make_url(POSTGRES_URL).database}_concurrency" if POSTGRES_URL else "steward_concurrency_test"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    url = make_url(POSTGRES_URL).set(database=DATABASE).render_as_string(hide_password=False)
    upgrade(url)
    accept_offline_evidence(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def engine(pg_url):
    engine = make_engine(pg_url, pool_size=10)
    yield engine
    engine.dispose()


@pytest.fixture
async def client(engine, pg_url):
    app = create_app(Settings(database_url=pg_url), engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t/api/v1") as http:
        yield http


def signed_off_release(engine, tier: str, *, doc: str) -> dict:
    """A product linked to a document, tested and signed off, committed; returns names, tokens and ids."""
    with unit_of_work(engine) as session:
        owner, owner_token = make_user(session, Role.product_owner)
        paula, paula_token = make_user(session, Role.product_owner)
        reviewers = [make_user(session, Role.reviewer) for _ in range(2)]
        slug = make_product(session, owner)
        from governance.catalog import components, links, products
        from governance.catalog.schemas import DocumentPublish, LinksUpdate, ProductUpdate, PromptPublish, SuitePublish
        from governance.review import decisions

        products.update_product(session, owner, slug, ProductUpdate(risk_tier=tier))
        components.publish_document(session, paula, doc, DocumentPublish(title="Policy", content="v1"))
        components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach."))
        components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec(cases=2)))
        links.set_product_links(session, owner, slug, LinksUpdate(documents=[doc]))
        run_queued_chunks(session)
        release = session.scalar(select(Release).order_by(Release.id.desc()).limit(1))
        assert release.state == "passed", release.error
        decisions.sign_off(session, owner, release.id, decisions.SignOffRequest(note="ok"))
        return {
            "release": release.id,
            "paula": paula_token,
            "reviewers": [t for _, t in reviewers],
            "doc": doc,
            "owner": owner_token,
        }


@pytest.mark.parametrize("attempt", range(5))
async def test_two_simultaneous_approvals_both_count(client, engine, attempt):
    setup = signed_off_release(engine, "high", doc=f"policy-a{attempt}")
    rid = setup["release"]
    responses = await asyncio.gather(
        *(
            client.post(f"/releases/{rid}/approve", json={"note": "ok"}, headers=auth(token))
            for token in setup["reviewers"]
        )
    )
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    with unit_of_work(engine) as session:
        release = session.get(Release, rid)
        assert release.state == "approved"
        assert len(list(session.scalars(select(Decision).where(Decision.release_id == rid)))) == 2
        assert verify_chain(session).ok


@pytest.mark.parametrize("attempt", range(5))
async def test_an_approval_racing_a_publish_never_lands_on_a_superseded_manifest(client, engine, attempt):
    setup = signed_off_release(engine, "limited", doc=f"policy-b{attempt}")
    rid, doc = setup["release"], setup["doc"]
    approve, publish = await asyncio.gather(
        client.post(f"/releases/{rid}/approve", json={"note": "ok"}, headers=auth(setup["reviewers"][0])),
        client.put(
            f"/documents/{doc}", json={"title": "Policy", "content": f"v2 {attempt}"}, headers=auth(setup["paula"])
        ),
    )
    assert publish.status_code == 201, publish.text
    assert approve.status_code in (200, 409), approve.text
    with unit_of_work(engine) as session:
        release = session.get(Release, rid)
        assert release.state == "superseded"
        approvals = list(session.scalars(select(Decision).where(Decision.release_id == rid)))
        events = [
            e.action
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.after["release_id"].as_integer() == rid).order_by(AuditEvent.seq)
            )
        ]
        if approve.status_code == 200:
            assert len(approvals) == 1 and events.index("release.approved") < events.index("release.superseded")
        else:
            assert approvals == [] and "superseded" in approve.json()["detail"]
        assert verify_chain(session).ok


async def test_simultaneous_publishes_of_one_document_get_distinct_versions(client, engine):
    with unit_of_work(engine) as session:
        _, token = make_user(session, Role.product_owner)
    await client.put("/documents/race-doc", json={"title": "T", "content": "v0"}, headers=auth(token))
    responses = await asyncio.gather(
        *(
            client.put("/documents/race-doc", json={"title": "T", "content": f"v{i}"}, headers=auth(token))
            for i in range(1, 6)
        )
    )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["version"]["number"] for r in responses) == [2, 3, 4, 5, 6]
