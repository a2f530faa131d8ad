"""Webhook delivery over real loopback HTTP: signatures, headers, retries with backoff, giving up, concurrency."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import delete, select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.schemas import PromptPublish
from governance.kernel.db import utcnow
from governance.notifications import webhooks as notifications
from governance.notifications.models import OutboxEvent, Webhook, WebhookDelivery
from governance.notifications.schemas import WebhookCreate
from service.database import unit_of_work
from service.secret_key import server_secret_key
from service.workers.webhook_delivery import Target, deliver_due
from tests.factories import make_product, make_user


class Receiver:
    """A tiny HTTP endpoint on 127.0.0.1 that records requests and answers with scripted status codes."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"receiver says no" if status >= 300 else b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: the README's verification recipe."""
    timestamp = headers["X-Steward-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Steward-Signature"])


def setup_cut(session, settings, url: str, **fields):
    """A product's webhook and one release.cut event for it: the product slug, the signing secret, the owner."""
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    data = WebhookCreate(url=url, product=slug, events=["release.cut"], **fields)
    _webhook, secret = notifications.create_webhook(session, owner, data, server_key=server_secret_key(settings))
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Hi", message="m"))
    session.flush()
    return slug, secret, owner


def the_delivery(session) -> WebhookDelivery:
    session.expire_all()
    [delivery] = session.scalars(select(WebhookDelivery))
    return delivery


def test_a_delivery_is_signed_and_carries_its_headers(session, connection, settings, receiver):
    slug, secret, _owner = setup_cut(session, settings, receiver.url)
    now = utcnow()
    assert deliver_due(connection, settings=settings, now=now) == 1
    [(headers, body)] = receiver.requests
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"release.cut", b"release.cux"))
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Steward-Event"] == "release.cut"
    assert headers["X-Steward-Timestamp"] == str(int(now.timestamp()))
    payload = json.loads(body)
    assert payload["event"] == "release.cut" and payload["product"] == slug
    delivery = the_delivery(session)
    assert headers["X-Steward-Delivery"] == str(delivery.id)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at == now
    assert deliver_due(connection, settings=settings, now=now + timedelta(days=1)) == 0


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(session, connection, settings, receiver):
    setup_cut(session, settings, receiver.url)
    receiver.statuses = [500, 503]
    t0 = utcnow()
    base = settings.webhook_retry_base_seconds
    assert deliver_due(connection, settings=settings, now=t0) == 1
    first = the_delivery(session)
    assert (first.state, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert "receiver says no" in first.last_error
    assert t0 + timedelta(seconds=base / 2) <= first.next_attempt_at <= t0 + timedelta(seconds=base)
    assert deliver_due(connection, settings=settings, now=t0 + timedelta(seconds=base / 4)) == 0  # not due yet
    t1 = first.next_attempt_at
    assert deliver_due(connection, settings=settings, now=t1) == 1
    second = the_delivery(session)
    assert (second.attempts, second.last_status_code) == (2, 503)
    assert t1 + timedelta(seconds=base) <= second.next_attempt_at <= t1 + timedelta(seconds=2 * base)
    assert deliver_due(connection, settings=settings, now=second.next_attempt_at) == 1
    done = the_delivery(session)
    assert (done.state, done.attempts, done.last_status_code, done.last_error) == ("delivered", 3, 200, None)
    assert len({headers["X-Steward-Delivery"] for headers, _ in receiver.requests}) == 1  # one id, three tries


def test_delivery_gives_up_after_the_attempt_cap(session, connection, settings, receiver):
    settings = settings.model_copy(update={"webhook_max_attempts": 2})
    setup_cut(session, settings, receiver.url)
    receiver.statuses = [500] * 5
    now = utcnow()
    for _ in range(4):
        deliver_due(connection, settings=settings, now=now)
        now += timedelta(hours=2)
    delivery = the_delivery(session)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 2, 500)
    assert len(receiver.requests) == 2


def test_an_unreachable_receiver_is_an_error_not_a_crash(session, connection, settings, receiver):
    closed = Receiver()  # bound, then closed at once: nothing listens on its port
    closed.server.server_close()
    setup_cut(session, settings, closed.url)
    assert deliver_due(connection, settings=settings, now=utcnow()) == 1
    delivery = the_delivery(session)
    assert delivery.state == "pending" and delivery.last_status_code is None
    assert "ConnectError" in delivery.last_error


def test_deliveries_of_a_disabled_webhook_are_not_sent(session, connection, settings, receiver):
    _slug, _secret, owner = setup_cut(session, settings, receiver.url)
    webhook = session.scalars(select(Webhook)).one()
    notifications.disable_webhook(session, owner, webhook.id)
    session.flush()
    assert deliver_due(connection, settings=settings, now=utcnow()) == 0
    assert receiver.requests == []
    assert the_delivery(session).state == "failed"


def test_concurrent_senders_send_each_delivery_once(engine, settings, receiver):
    """Committed rows and two senders racing: SKIP LOCKED on PostgreSQL, one writer at a time on SQLite."""
    count = 12
    with unit_of_work(engine) as session:
        # A ping-only global webhook: no other event can reach it while its rows are committed.
        webhook = Webhook(product_id=None, url=receiver.url, events=["ping"], created_by="test")
        session.add(webhook)
        session.flush()
        events = [
            OutboxEvent(uid=f"race-{webhook.id}-{i}", type="ping", payload={"event": "ping", "n": i})
            for i in range(count)
        ]
        for event in events:
            event.deliveries = [WebhookDelivery(webhook_id=webhook.id, next_attempt_at=utcnow())]
        session.add_all(events)
    try:
        now = utcnow() + timedelta(seconds=1)
        senders = [
            threading.Thread(target=deliver_due, args=(engine,), kwargs={"settings": settings, "now": now})
            for _ in range(2)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=60)
        ids = [headers["X-Steward-Delivery"] for headers, _ in receiver.requests]
        assert len(ids) == count and len(set(ids)) == count
        with unit_of_work(engine) as session:
            states = session.scalars(select(WebhookDelivery.state).where(WebhookDelivery.webhook_id == webhook.id))
            assert set(states) == {"delivered"}
    finally:
        with unit_of_work(engine) as session:
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
            session.execute(delete(OutboxEvent).where(OutboxEvent.uid.like(f"race-{webhook.id}-%")))
            session.execute(delete(Webhook).where(Webhook.id == webhook.id))


def test_webhooks_into_private_networks_are_refused_unless_allowed(session, connection, settings, receiver):
    strict = settings.model_copy(update={"webhook_allow_private_addresses": False})
    setup_cut(session, strict, receiver.url)
    assert deliver_due(connection, settings=strict) == 1
    refused = the_delivery(session)
    assert receiver.requests == []
    assert refused.state == "pending" and "127.0.0.1, which is not a public address" in refused.last_error
    assert "STEWARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES" in refused.last_error


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the named hosts to scripted addresses, one answer per lookup (the last one repeats); log lookups."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host in answers:
            asked.append(host)
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"])
def test_ipv6_answers_that_embed_a_private_ipv4_address_are_refused(
    session, connection, settings, receiver, monkeypatch, address
):
    strict = settings.model_copy(update={"webhook_allow_private_addresses": False})
    fake_dns(monkeypatch, {"hooks.example.test": [address]})
    setup_cut(session, strict, "http://hooks.example.test/hook")
    assert deliver_due(connection, settings=strict) == 1
    refused = the_delivery(session)
    assert refused.state == "pending" and "(that is 127.0.0.1), which is not a public address" in refused.last_error


def test_the_post_connects_to_the_address_checked_with_the_original_host_header(
    session, connection, settings, receiver, monkeypatch
):
    # The first answer is the one checked; a rebinding DNS answers differently afterwards.
    port = receiver.server.server_address[1]
    asked = fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1", "192.0.2.1"]})
    setup_cut(session, settings, f"http://rebind.example.test:{port}/hook")
    assert deliver_due(connection, settings=settings) == 1
    assert asked == ["rebind.example.test"]
    [(headers, _body)] = receiver.requests
    assert headers["Host"] == f"rebind.example.test:{port}"
    assert the_delivery(session).state == "delivered"


def test_a_pinned_https_request_keeps_its_host_header_and_tls_server_name():
    target = Target(url="https://hooks.example.test:8443/in?x=1", address="2606:4700::1111")
    assert target.pinned() == (
        "https://[2606:4700::1111]:8443/in?x=1",
        {"Host": "hooks.example.test:8443"},
        {"sni_hostname": "hooks.example.test"},
    )
    assert Target(url="http://hooks.example.test/in", address="203.0.113.9").pinned() == (
        "http://203.0.113.9/in",
        {"Host": "hooks.example.test"},
        {},
    )
