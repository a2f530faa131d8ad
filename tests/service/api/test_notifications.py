"""Webhooks over HTTP: who may register them, what is refused, the secret shown once, the delivery log."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from governance.accounts.roles import Role
from service.workers.webhook_delivery import deliver_due
from tests.factories import auth, make_product, make_user
from tests.service.workers.test_webhook_delivery import Receiver


@pytest.fixture
def app(app):
    # Until service/app.py registers the router, mount it here; afterwards this is a no-op.
    from service.api.routes import notifications

    if not any(getattr(route, "path", "") == "/api/v1/webhooks" for route in app.routes):
        app.include_router(notifications.router, prefix="/api/v1")
    return app


async def test_owner_registers_a_webhook_and_sees_the_secret_once(client, session):
    owner, token = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    created = await client.post(
        "/webhooks",
        json={"url": "https://hooks.example.test/steward?team=hr", "product": slug, "events": ["release.live"]},
        headers=auth(token),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["signing_secret"].startswith("whsec_") and body["product"] == slug
    assert body["events"] == ["release.live"] and body["created_by"] == owner.name and body["disabled_at"] is None
    listed = (await client.get("/webhooks", headers=auth(token))).json()
    assert [w["id"] for w in listed["items"]] == [body["id"]]
    assert "signing_secret" not in listed["items"][0]
    audit = (await client.get("/audit", params={"product": slug}, headers=auth(token))).json()["items"]
    created_event = next(e for e in audit if e["action"] == "webhook.created")
    # Every role reads the audit trail, so it keeps only the URL's origin and never the secret.
    assert created_event["after"]["origin"] == "https://hooks.example.test"
    assert body["signing_secret"] not in str(audit) and "team=hr" not in str(audit)


@pytest.mark.parametrize(
    ("role", "product", "status"),
    [
        (Role.admin, None, 201),
        (Role.product_owner, None, 403),
        (Role.reviewer, None, 403),
        (Role.admin, "own", 201),
        (Role.reviewer, "own", 403),
        (Role.ci, "own", 403),
    ],
)
async def test_who_may_register_webhooks(client, session, role, product, status):
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    _, token = make_user(session, role)
    payload = {"url": "https://hooks.example.test/x"} | ({"product": slug} if product else {})
    response = await client.post("/webhooks", json=payload, headers=auth(token))
    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://hooks.example.test/x"}, "url"),
        ({"url": "http://user:pass@hooks.example.test/x"}, "url"),
        ({"url": "not a url at all"}, "url"),
        ({"url": "https://hooks.example.test/x", "events": ["release.exploded"]}, "events"),
        ({"url": "https://hooks.example.test/x", "product": "no-such-product"}, "product"),
        ({"url": "https://hooks.example.test/x", "secret": "mine"}, "secret"),
    ],
)
async def test_bad_webhooks_are_refused_naming_the_field(client, session, payload, field):
    _, token = make_user(session, Role.admin)
    response = await client.post("/webhooks", json=payload, headers=auth(token))
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_a_duplicate_conflicts_and_a_disabled_webhook_cannot_be_tested(client, session):
    _, token = make_user(session, Role.admin)
    payload = {"url": "https://hooks.example.test/dup"}
    first = (await client.post("/webhooks", json=payload, headers=auth(token))).json()
    duplicate = await client.post("/webhooks", json=payload, headers=auth(token))
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "url"
    disabled = await client.delete(f"/webhooks/{first['id']}", headers=auth(token))
    assert disabled.status_code == 200 and disabled.json()["disabled_at"] is not None
    again = await client.delete(f"/webhooks/{first['id']}", headers=auth(token))
    assert again.json()["disabled_at"] == disabled.json()["disabled_at"]
    assert (await client.post(f"/webhooks/{first['id']}/test", headers=auth(token))).status_code == 409
    assert (await client.post("/webhooks", json=payload, headers=auth(token))).status_code == 201
    assert (await client.delete("/webhooks/999999", headers=auth(token))).status_code == 404


async def test_another_owner_cannot_touch_my_webhook(client, session):
    owner, token = make_user(session, Role.product_owner)
    _, other = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    created = (
        await client.post("/webhooks", json={"url": "https://h.example.test/", "product": slug}, headers=auth(token))
    ).json()
    for method, path in [
        ("DELETE", f"/webhooks/{created['id']}"),
        ("GET", f"/webhooks/{created['id']}/deliveries"),
        ("POST", f"/webhooks/{created['id']}/test"),
    ]:
        assert (await client.request(method, path, headers=auth(other))).status_code == 403
    assert (await client.get("/webhooks", params={"product": slug}, headers=auth(other))).status_code == 403


async def test_a_ping_is_delivered_and_logged(client, session, connection, settings):
    _, token = make_user(session, Role.admin)
    with Receiver() as receiver:
        receiver.statuses = [500]
        created = (await client.post("/webhooks", json={"url": receiver.url}, headers=auth(token))).json()
        queued = await client.post(f"/webhooks/{created['id']}/test", headers=auth(token))
        assert queued.status_code == 202 and queued.json()["state"] == "pending"
        assert queued.json()["event"] == "ping"
        deliver_due(connection, settings=settings)
        await client.post(f"/webhooks/{created['id']}/test", headers=auth(token))
        deliver_due(connection, settings=settings)
    headers, body = receiver.requests[-1]
    secret = created["signing_secret"]
    expected = hmac.new(secret.encode(), f"{headers['X-Steward-Timestamp']}.".encode() + body, hashlib.sha256)
    assert headers["X-Steward-Signature"] == f"sha256={expected.hexdigest()}"
    log = (await client.get(f"/webhooks/{created['id']}/deliveries", headers=auth(token))).json()
    newest, oldest = log["items"]
    assert (newest["state"], newest["last_status_code"], newest["attempts"]) == ("delivered", 200, 1)
    assert (oldest["state"], oldest["last_status_code"], oldest["attempts"]) == ("pending", 500, 1)
    assert oldest["next_attempt_at"] is not None and "HTTP 500" in oldest["last_error"]
    first_page = (await client.get(f"/webhooks/{created['id']}/deliveries?limit=1", headers=auth(token))).json()
    assert [d["id"] for d in first_page["items"]] == [newest["id"]] and first_page["next"]
    rest = await client.get(
        f"/webhooks/{created['id']}/deliveries", params={"limit": 1, "cursor": first_page["next"]}, headers=auth(token)
    )
    assert [d["id"] for d in rest.json()["items"]] == [oldest["id"]]
