"""Reading the trail: exports and listings filter by product and actor, and auditors can check records alone."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, timedelta

from governance.audit.reading import export_events, list_events
from governance.kernel.db import utcnow
from governance.kernel.pagination import decode_cursor
from tests.governance.audit.conftest import write_events


class Reader:
    name = "auditor"


def interleaved(session) -> None:
    write_events(session, 2, product="goal-coach", actor="alice")
    write_events(session, 1, product=None, actor="system")
    write_events(session, 3, product="interview-helper", actor="bob")
    write_events(session, 1, product="goal-coach", actor="bob")


def test_export_filters_by_product_in_chain_order(session):
    interleaved(session)
    records = list(export_events(session, product="goal-coach"))
    assert [(r["seq"], r["actor"], r["product"]) for r in records] == [
        (1, "alice", "goal-coach"),
        (2, "alice", "goal-coach"),
        (7, "bob", "goal-coach"),
    ]
    assert [r["seq"] for r in export_events(session)] == [1, 2, 3, 4, 5, 6, 7]
    assert list(export_events(session, product="nobody")) == []


def test_an_exported_record_can_be_checked_without_steward(session, chain_key):
    interleaved(session)
    records = list(export_events(session))
    previous = "0" * 64
    for record in records:
        assert record["key_id"] == chain_key.key_id
        sealed = {key: value for key, value in record.items() if key != "hash"}
        canonical = json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hmac.new(chain_key.secret, canonical.encode(), "sha256").hexdigest() == record["hash"]
        assert record["prev_hash"] == previous
        previous = record["hash"]


def test_listing_filters_by_product_actor_and_time(session):
    start = utcnow() - timedelta(seconds=1)
    interleaved(session)

    def seqs(**filters) -> list[int]:
        return [e.seq for e in list_events(session, Reader(), after=0, limit=100, **filters).items]

    assert seqs(product="interview-helper") == [4, 5, 6]
    assert seqs(by="bob") == [4, 5, 6, 7]
    assert seqs(product="goal-coach", by="bob") == [7]
    assert seqs(since=start) == [1, 2, 3, 4, 5, 6, 7]
    assert seqs(since=utcnow() + timedelta(minutes=1)) == []
    # A naive timestamp is read as UTC.
    assert seqs(since=start.astimezone(UTC).replace(tzinfo=None)) == [1, 2, 3, 4, 5, 6, 7]


def test_listing_pages_through_the_trail_by_seq(session):
    interleaved(session)
    seen, after = [], 0
    while True:
        page = list_events(session, Reader(), after=after, limit=3, product="goal-coach")
        seen.extend(e.seq for e in page.items)
        if page.next is None:
            break
        after = decode_cursor(page.next)
    assert seen == [1, 2, 7]


def test_a_products_export_holds_the_shared_publishes_that_cut_its_releases(session):
    from governance.accounts.roles import Role
    from tests.factories import make_product, make_user
    from tests.governance.catalog.conftest import link, publish_document, publish_process

    owner = make_user(session, Role.product_owner)[0]
    publish_document(session, owner, "policy", "v1")
    publish_document(session, owner, "unrelated", "v1")
    publish_process(session, owner, "goal-setting", ["policy"])
    slug = make_product(session, owner)
    link(session, owner, slug, processes=["goal-setting"])
    publish_document(session, owner, "policy", "v2")
    publish_document(session, owner, "unrelated", "v2")
    exported = [
        (r["action"], r["subject"], (r["after"] or {}).get("version")) for r in export_events(session, product=slug)
    ]
    # The document reaches the product through the process: its v2 publish cut a release, so it belongs here.
    assert ("document.published", "policy", 2) in exported
    assert ("release.cut", f"{slug}#2", None) in exported
    assert not [entry for entry in exported if entry[1] == "unrelated"]
    assert ("document.published", "policy", 1) not in exported  # it cut no release of this product
