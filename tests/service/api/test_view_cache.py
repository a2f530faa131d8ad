"""Views remembered per process are served only while the audit trail's head has not moved."""

from __future__ import annotations

import threading
import time

import pytest

from governance.accounts.roles import Role
from governance.review import decisions
from service.api import view_cache
from service.api.view_cache import ViewCache
from tests.factories import auth, make_product, make_user
from tests.inline_worker import run_queued_chunks
from tests.service.api.test_query_counts import REMEMBERED_READ_QUERIES, reads
from tests.service.api.test_releases import publish


def counting_builder(body: bytes = b"{}", cacheable: bool = True):
    calls: list[int] = []

    def build() -> tuple[bytes, bool]:
        calls.append(1)
        return body, cacheable

    return build, calls


def test_a_view_is_built_again_when_the_audit_head_moves():
    cache = ViewCache(seconds=60)
    build, calls = counting_builder()
    assert cache.get("k", 7, build) == b"{}" and cache.get("k", 7, build) == b"{}"
    assert len(calls) == 1
    cache.get("k", 8, build)
    assert len(calls) == 2


def test_a_view_that_moves_without_an_audit_event_is_never_remembered():
    cache = ViewCache(seconds=60)
    build, calls = counting_builder(cacheable=False)
    for _ in range(3):
        cache.get("k", 7, build)
    assert len(calls) == 3


def test_a_view_is_rebuilt_after_its_time_and_never_remembered_at_zero(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(view_cache.time, "monotonic", lambda: clock[0])
    cache = ViewCache(seconds=1)
    build, calls = counting_builder()
    cache.get("k", 7, build)
    clock[0] += 0.9
    cache.get("k", 7, build)
    assert len(calls) == 1
    clock[0] += 0.2
    cache.get("k", 7, build)
    assert len(calls) == 2
    off = ViewCache(seconds=0)
    off.get("k", 7, build)
    off.get("k", 7, build)
    assert len(calls) == 4


def test_requests_arriving_while_a_view_is_built_wait_for_it_instead_of_building_it_too():
    cache = ViewCache(seconds=60)
    calls: list[int] = []
    started = threading.Event()

    def slow_build() -> tuple[bytes, bool]:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return b"view", True

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", 7, slow_build))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"view"] * 8 and len(calls) == 1


@pytest.fixture
def world(session):
    owner, owner_token = make_user(session, Role.product_owner)
    reader = make_user(session, Role.reviewer)[1]
    return make_product(session, owner), owner, owner_token, reader


async def test_a_change_committed_elsewhere_shows_on_the_next_read(client, session, connection, world):
    slug, owner, owner_token, reader = world
    await publish(client, slug, owner_token)
    run_queued_chunks(session)
    newest = (await client.get(f"/products/{slug}/releases", headers=auth(reader))).json()["items"][0]
    path = newest["href"].removeprefix("/api/v1")
    assert (await client.get(path, headers=auth(reader))).json()["state"] == "passed"
    assert await reads(client, connection, reader, f"/releases/{newest['id']}") == REMEMBERED_READ_QUERIES
    # Another server (or a worker) signs it off: its audit event moves the head, and this server's view with it.
    decisions.sign_off(session, owner, newest["id"], decisions.SignOffRequest(note="from elsewhere"))
    session.commit()
    again = (await client.get(path, headers=auth(reader))).json()
    assert again["state"] == "signed_off" and again["signoffs"][0]["note"] == "from elsewhere"
    product = (await client.get(f"/products/{slug}", headers=auth(reader))).json()
    assert product["pending_release_number"] == newest["number"]


async def test_a_release_still_testing_is_read_fresh_every_time(client, session, connection, world):
    slug, _, owner_token, reader = world
    await publish(client, slug, owner_token)
    newest = (await client.get(f"/products/{slug}/releases", headers=auth(reader))).json()["items"][0]
    assert newest["state"] == "testing"
    first = await reads(client, connection, reader, f"/releases/{newest['id']}")
    second = await reads(client, connection, reader, f"/releases/{newest['id']}")
    assert first == second > REMEMBERED_READ_QUERIES
