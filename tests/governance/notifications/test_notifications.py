"""Notification events: which transitions announce what, to which webhooks, in the change's own transaction."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import timedelta
from ipaddress import ip_address

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.audit.trail import record_event
from governance.catalog import components
from governance.catalog.models import Product
from governance.catalog.schemas import PromptPublish
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Forbidden, Invalid
from governance.notifications import addresses, signing
from governance.notifications import webhooks as notifications
from governance.notifications.deliveries import RetryPolicy, claim_due, record_attempt
from governance.notifications.models import OutboxEvent, WebhookDelivery
from governance.notifications.outbox import enqueue_overdue
from governance.notifications.schemas import WebhookCreate
from governance.releases.models import Release
from governance.review import decisions
from tests.factories import make_product, make_user

KEY = b"test-server-key"
WAIVER = "The offline suite is pending; the owner accepts the risk for this pilot."


def hook(session, actor, url="https://hooks.example.test/steward", **fields):
    webhook, _secret = notifications.create_webhook(session, actor, WebhookCreate(url=url, **fields), server_key=KEY)
    return webhook


def outbox(session, product=None):
    session.flush()
    query = select(OutboxEvent).order_by(OutboxEvent.id)
    if product is not None:
        query = query.where(OutboxEvent.product_slug == product)
    return list(session.scalars(query))


def latest_release(session, slug):
    return session.scalars(
        select(Release)
        .join(Product, Product.id == Release.product_id)
        .where(Product.slug == slug)
        .order_by(Release.id.desc())
    ).first()


def test_the_whole_loop_announces_each_step(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    first, _ = make_user(session, Role.reviewer)
    second, _ = make_user(session, Role.reviewer)
    slug = make_product(session, owner)
    webhook = hook(session, admin)

    # No suite: the release is cut and fails at once, which finishes its (empty) testing.
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi {{ x }}", message="m"))
    release = latest_release(session, slug)
    decisions.sign_off(session, owner, release.id, decisions.SignOffRequest(waiver=WAIVER))
    decisions.approve(session, first, release.id, decisions.ApproveRequest(note="ok"))
    decisions.approve(session, second, release.id, decisions.ApproveRequest(note="ok too"))
    decisions.go_live(session, owner, release.id)

    events = outbox(session, slug)
    assert [e.type for e in events] == [
        "release.cut",
        "runs.finished",
        "signoff.requested",
        "approval.requested",
        "release.approved",
        "release.live",
    ]
    live = events[-1].payload
    assert live["event"] == "release.live" and live["id"] == events[-1].uid and live["product"] == slug
    assert live["release"]["id"] == release.id and live["release"]["state"] == "live"
    assert live["release"]["manifest_hash"] == release.manifest_hash and live["actor"] == owner.name
    assert live["links"] == {
        "release": f"/api/v1/products/{slug}/releases/{release.number}",
        "release_page": f"/products/{slug}/releases/{release.number}",
    }
    assert events[3].payload["reason"] == WAIVER  # approval requested: reviewers see the waiver
    assert all(len(e.deliveries) == 1 and e.deliveries[0].webhook_id == webhook.id for e in events)
    assert {d.state for e in events for d in e.deliveries} == {"pending"}


def test_rejection_is_announced(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    reviewer, _ = make_user(session, Role.reviewer)
    slug = make_product(session, owner)
    hook(session, admin, events=["release.rejected"])
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi", message="m"))
    release = latest_release(session, slug)
    decisions.reject(session, reviewer, release.id, decisions.RejectRequest(reason="not fit for employees"))
    events = outbox(session, slug)
    assert [e.type for e in events] == ["release.rejected"]
    assert events[0].payload["reason"] == "not fit for employees"


def test_webhooks_get_their_product_global_events_and_only_the_types_they_asked_for(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    mine, theirs = make_product(session, owner), make_product(session, owner)
    everything = hook(session, admin, url="https://a.example.test/all")
    only_live = hook(session, admin, url="https://a.example.test/live", events=["release.live"])
    my_product = hook(session, owner, url="https://a.example.test/mine", product=mine)
    their_product = hook(session, owner, url="https://a.example.test/theirs", product=theirs)
    cuts_only = hook(session, owner, url="https://a.example.test/cuts", product=mine, events=["release.cut"])
    disabled = hook(session, owner, url="https://a.example.test/off", product=mine)
    notifications.disable_webhook(session, owner, disabled.id)

    components.publish_prompt(session, owner, mine, "system", PromptPublish(template="Hi", message="m"))
    by_type = {e.type: sorted(d.webhook_id for d in e.deliveries) for e in outbox(session, mine)}
    assert by_type["release.cut"] == sorted([everything.id, my_product.id, cuts_only.id])
    assert by_type["runs.finished"] == sorted([everything.id, my_product.id])
    assert only_live.id not in {i for ids in by_type.values() for i in ids}
    assert their_product.id not in {i for ids in by_type.values() for i in ids}


def test_no_subscriber_writes_nothing_and_unannounced_actions_write_nothing(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi", message="m"))
    assert outbox(session, slug) == []
    hook(session, admin)
    record_event(
        session, actor=owner, action="product.updated", subject_type="product", subject=slug, product_slug=slug
    )
    assert outbox(session, slug) == []


def test_the_outbox_rolls_back_with_the_change(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    hook(session, admin)
    savepoint = session.begin_nested()
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi", message="m"))
    session.flush()
    assert outbox(session, slug)
    savepoint.rollback()
    assert outbox(session, slug) == []


def test_overdue_revalidation_is_announced_once_per_release(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi", message="m"))
    hook(session, admin, events=["revalidation.overdue"])
    release = latest_release(session, slug)
    now = utcnow()
    release.revalidation_due_at = now + timedelta(days=1)
    session.flush()
    assert enqueue_overdue(session, now) == 0
    release.revalidation_due_at = now - timedelta(hours=1)
    session.flush()
    assert enqueue_overdue(session, now) == 1
    assert enqueue_overdue(session, now + timedelta(days=1)) == 0
    [event] = outbox(session, slug)
    assert event.type == "revalidation.overdue" and event.release_id == release.id
    assert event.payload["release"]["revalidation_due_at"] == release.revalidation_due_at.isoformat()
    # A newer release inherits the deadline and is announced too; the older one stays quiet.
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hello", message="m"))
    newer = latest_release(session, slug)
    newer.revalidation_due_at = release.revalidation_due_at
    session.flush()
    assert enqueue_overdue(session, now) == 1
    assert [e.release_id for e in outbox(session, slug)] == [release.id, newer.id]


def test_who_may_manage_webhooks(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    other, _ = make_user(session, Role.product_owner)
    reviewer, _ = make_user(session, Role.reviewer)
    slug = make_product(session, owner)
    with pytest.raises(Forbidden):
        hook(session, owner)  # global: admins only
    with pytest.raises(Forbidden):
        hook(session, other, product=slug)
    with pytest.raises(Forbidden):
        hook(session, reviewer, product=slug)
    with pytest.raises(Invalid) as unknown:
        hook(session, owner, product="no-such-product")
    assert unknown.value.problems[0].field == "product"
    mine = hook(session, owner, product=slug)
    with pytest.raises(Conflict):
        hook(session, admin, product=slug)  # same URL, same product
    with pytest.raises(Forbidden):
        notifications.disable_webhook(session, other, mine.id)
    assert [w.id for w in notifications.list_webhooks(session, other).items] == []
    assert [w.id for w in notifications.list_webhooks(session, owner).items] == [mine.id]
    assert mine.id in [w.id for w in notifications.list_webhooks(session, admin, limit=200).items]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.test/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://user:pass@hooks.example.test/x",
        "https://token@hooks.example.test/x",
        "http:///no-host",
        "http://hooks.example.test:99999/x",
        "http://hooks.example.test/a b",
        "http://hooks.example.test\\@evil.test/",
        "http://[::127.0.0.1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[::ffff:7f00:1]:8080/x",
        "http://[64:ff9b::7f00:1]/x",
        "http://[64:ff9b:1::a9fe:a9fe]/x",
        "https://[2002:7f00:1::]/x",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",
    ],
)
def test_webhook_urls_that_are_refused(url):
    with pytest.raises(ValidationError) as refused:
        WebhookCreate(url=url)
    assert refused.value.errors()[0]["loc"] == ("url",)


@pytest.mark.parametrize(
    ("address", "embedded", "public"),
    [
        ("::127.0.0.1", ["127.0.0.1"], False),
        ("::ffff:127.0.0.1", ["127.0.0.1"], False),
        ("::ffff:8.8.8.8", ["8.8.8.8"], True),
        ("64:ff9b::7f00:1", ["127.0.0.1"], False),
        ("64:ff9b::808:808", ["8.8.8.8"], True),
        ("64:ff9b:1::a9fe:a9fe", ["169.254.169.254"], False),
        ("2002:7f00:1::", ["127.0.0.1"], False),
        ("2002:a00:1::1", ["10.0.0.1"], False),
        ("2002:808:808::", ["8.8.8.8"], True),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", ["65.54.227.120", "127.0.0.1"], False),
        ("::1", [], False),
        ("::", [], False),
        ("2606:4700::1111", [], True),
        ("127.0.0.1", [], False),
        ("8.8.8.8", [], True),
    ],
)
def test_ipv6_forms_that_embed_ipv4_are_judged_by_that_address(address, embedded, public):
    ip = ip_address(address)
    assert [str(inner) for inner in addresses.embedded_ipv4(ip)] == embedded
    assert addresses.is_public(ip) is public


def test_unknown_event_types_are_refused():
    with pytest.raises(ValidationError):
        WebhookCreate(url="https://hooks.example.test/x", events=["release.cut", "release.exploded"])
    assert WebhookCreate(url="http://127.0.0.1:9/x", events=["release.live", "release.cut"]).events == [
        "release.cut",
        "release.live",
    ]


def test_signing_secrets_are_derived_not_stored_and_signatures_follow_the_documented_scheme():
    one, again, other, other_key = (
        notifications.signing_secret(KEY, 1),
        notifications.signing_secret(KEY, 1),
        notifications.signing_secret(KEY, 2),
        notifications.signing_secret(b"another key", 1),
    )
    assert one == again and len({one, other, other_key}) == 3 and one.startswith("whsec_")
    body = b'{"event":"ping"}'
    expected = hmac.new(one.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.signature(one, 1700000000, body) == f"sha256={expected}"


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=timedelta(seconds=10), max_delay=timedelta(seconds=60))
    rng = random.Random(7)
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delay = policy.delay_after(attempts, rng=rng).total_seconds()
        assert full / 2 <= delay <= full


def test_a_lapsed_claim_is_taken_over_and_the_stale_outcome_is_ignored(session):
    admin, _ = make_user(session, Role.admin)
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    webhook = hook(session, admin, events=["release.cut"])
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi", message="m"))
    session.flush()
    policy = RetryPolicy(lease=timedelta(seconds=60), max_attempts=5)
    now = utcnow()
    first = claim_due(session, now, policy)
    assert first is not None and first.webhook_id == webhook.id and first.attempt == 1
    assert claim_due(session, now + timedelta(seconds=30), policy) is None  # still leased
    second = claim_due(session, now + timedelta(seconds=61), policy)
    assert second is not None and second.delivery_id == first.delivery_id and second.attempt == 2
    assert record_attempt(session, first, now=now, policy=policy, status_code=200, error=None) is None
    assert record_attempt(session, second, now=now, policy=policy, status_code=204, error=None) == "delivered"
    delivery = session.get(WebhookDelivery, first.delivery_id)
    assert delivery.state == "delivered" and delivery.attempts == 2 and delivery.last_status_code == 204
