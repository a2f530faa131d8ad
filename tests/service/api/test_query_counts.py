"""The common reads cost a fixed number of queries, however many releases and components a product has.

Counted on the test's connection (``before_cursor_execute``), statements only: the savepoints a test's
transaction wraps each request in are not queries of the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from governance.accounts.roles import Role
from governance.catalog import components, links
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish, LinksUpdate, PromptPublish, SuitePublish
from governance.releases.repository import list_for_product
from tests.factories import auth, make_product, make_user, suite_spec

STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

# What a read costs today; a loop that queries per release, run or component breaks the "flat" tests first.
PRODUCT_READ_QUERIES = 5  # token, the audit head, product, components with their heads, status
# token; the audit head; the release; its record (product, policy, live release, runs, sign-offs, decisions,
# owner history, authors); the release it replaced; run counts; obligations' evidence and documents' lint findings
RELEASE_READ_MAX_QUERIES = 14
# Read again while the audit head has not moved (service/api/view_cache.py): the token and the head, and for an
# address by product and number the release's id...
REMEMBERED_READ_QUERIES = 2
# ...and within STEWARD_VIEW_CACHE_SECONDS of that check, by a token it found valid, none at all.
ANSWERED_FROM_MEMORY_QUERIES = 0


@contextmanager
def counting(connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if statement.lstrip().upper().startswith(STATEMENTS):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)


def product_with(session, owner, documents: int) -> tuple[str, list[int]]:
    """A product with a prompt, a suite and ``documents`` linked documents, linked one at a time (a release each)."""
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Help with goals.", message="v1"))
    components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec(), message="v1"))
    names = []
    for index in range(documents):
        name = f"{slug}-doc-{index}"
        components.publish_document(
            session, owner, name, DocumentPublish(title=f"Document {index}", content=f"Text {index}.", message="v1")
        )
        names.append(name)
        links.set_product_links(session, owner, slug, LinksUpdate(documents=names))
    session.flush()
    releases = list_for_product(session, get_product(session, slug).id, before_number=0, limit=1000)
    return slug, [r.id for r in releases]


@pytest.fixture
def products(session):
    owner, token = make_user(session, Role.product_owner)
    small = product_with(session, owner, documents=1)
    large = product_with(session, owner, documents=20)
    return token, small, large


async def reads(client, connection, token: str, path: str) -> int:
    with counting(connection) as seen:
        response = await client.get(path, headers=auth(token))
    assert response.status_code == 200, response.text
    return len(seen)


async def test_a_product_read_costs_the_same_with_1_or_20_components_and_releases(client, connection, products, app):
    token, (small, _), (large, large_releases) = products
    assert len(large_releases) >= 20
    small_count = await reads(client, connection, token, f"/products/{small}")
    large_count = await reads(client, connection, token, f"/products/{large}")
    assert small_count == large_count == PRODUCT_READ_QUERIES
    assert await reads(client, connection, token, f"/products/{large}") == ANSWERED_FROM_MEMORY_QUERIES
    app.state.edge_memory.views.forget_answers()
    assert await reads(client, connection, token, f"/products/{large}") == REMEMBERED_READ_QUERIES
    body = (await client.get(f"/products/{large}", headers=auth(token))).json()
    assert len(body["documents"]) == 20 and body["documents"][0]["title"] == "Document 0"


async def test_a_release_read_costs_the_same_however_many_releases_and_changes(client, connection, products, app):
    token, (_, small_releases), (_, large_releases) = products
    newest_small = await reads(client, connection, token, f"/releases/{small_releases[0]}")
    newest_large = await reads(client, connection, token, f"/releases/{large_releases[0]}")
    oldest_large = await reads(client, connection, token, f"/releases/{large_releases[-1]}")
    assert newest_small == newest_large <= RELEASE_READ_MAX_QUERIES
    assert oldest_large <= RELEASE_READ_MAX_QUERIES
    assert await reads(client, connection, token, f"/releases/{large_releases[-1]}") == ANSWERED_FROM_MEMORY_QUERIES
    app.state.edge_memory.views.forget_answers()
    assert await reads(client, connection, token, f"/releases/{large_releases[-1]}") == REMEMBERED_READ_QUERIES
    by_number = await client.get(f"/releases/{large_releases[-1]}", headers=auth(token))
    path = by_number.json()["href"].removeprefix("/api/v1")
    assert await reads(client, connection, token, path) == REMEMBERED_READ_QUERIES + 1
    assert await reads(client, connection, token, path) == ANSWERED_FROM_MEMORY_QUERIES


async def test_the_product_list_costs_the_same_for_one_or_many_products(client, connection, products, session):
    token = products[0]
    one = await reads(client, connection, token, "/products?limit=1")
    many = await reads(client, connection, token, "/products?limit=50")
    assert one == many
