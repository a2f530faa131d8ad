"""The running server delivers the loop's notifications: a product's webhook hears its release cut and tested."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from service.app import create_app
from tests.factories import auth, suite_spec
from tests.service.workers.test_embedded import embedded_settings, wait_until_tested
from tests.service.workers.test_webhook_delivery import Receiver, verify


async def test_a_product_webhook_hears_the_release_cut_and_its_runs_finish(
    shared_engine, shared_database_url, tmp_path, owner_token
):
    settings = embedded_settings(shared_database_url, tmp_path)
    app = create_app(settings, engine=shared_engine)
    transport = httpx.ASGITransport(app=app)
    with Receiver() as receiver:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://steward.test/api/v1") as client,
        ):
            release_id = await publish_and_hook(client, owner_token, receiver)
            secret = receiver.secret
            await wait_until_tested(client, release_id, owner_token)
            events = await wait_for_events(receiver, {"release.cut", "runs.finished", "signoff.requested"})
    assert {"release.cut", "runs.finished", "signoff.requested"} <= set(events)
    for headers, body in receiver.requests:
        assert verify(secret, headers, body)
        assert json.loads(body)["product"] == "goal-coach"


async def publish_and_hook(client, token, receiver) -> int:
    """Register the webhook as soon as the product exists, then publish what cuts the tested release."""
    created = await client.post(
        "/products",
        json={
            "slug": "goal-coach",
            "name": "Goal coach",
            "risk_tier": "limited",
            "model": {"provider": "offline", "name": "m"},
        },
        headers=auth(token),
    )
    assert created.status_code == 201, created.text
    hook = await client.post("/webhooks", json={"url": receiver.url, "product": "goal-coach"}, headers=auth(token))
    assert hook.status_code == 201, hook.text
    receiver.secret = hook.json()["signing_secret"]
    await client.put(
        "/products/goal-coach/prompts/system", json={"template": "Coach: {{ employee_message }}"}, headers=auth(token)
    )
    suite = await client.put(
        "/products/goal-coach/suites/quality", json={"spec": suite_spec(cases=2)}, headers=auth(token)
    )
    assert suite.status_code == 201, suite.text
    items = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"]
    return items[0]["id"]


async def wait_for_events(receiver: Receiver, wanted: set[str], timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            events = [json.loads(body)["event"] for _, body in receiver.requests]
        if wanted <= set(events):
            return events
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {events} arrived")
