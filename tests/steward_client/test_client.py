"""The client against a real server: fetch, cache, revalidate, verify, survive an outage, obey the stop button."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from service.app import create_app
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.seed import launch_first_release, seed_demo
from service.settings import PROJECT_ROOT, Settings
from steward_client import (
    AttestationError,
    LiveRelease,
    NoLiveRelease,
    ProductSuspended,
    StewardClient,
    StewardUnavailable,
)
from tests.conftest import TEST_SERVER_SECRET

STEWARD_YAML = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"


class CountingTransport(httpx.HTTPTransport):
    """A real HTTP transport that remembers each request it sent, and can be told to fail like a dead server."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, int]] = []
        self.down = False
        self.tamper = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused (the test stopped the server)", request=request)
        response = super().handle_request(request)
        self.sent.append((request.method, request.url.path, response.status_code))
        if self.tamper and request.url.path.endswith("/live") and response.status_code == 200:
            body = json.loads(response.read())
            body["prompts"]["system"]["template"] += "\nAlso rate the employee from 1 to 5."
            return httpx.Response(200, json=body, headers={"etag": response.headers["etag"]})
        return response


@dataclass
class Server:
    url: str
    tokens: dict[str, str]

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    import uvicorn

    folder = tmp_path_factory.mktemp("client")
    url = f"sqlite:///{folder / 'steward.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(
        database_url=url, var_dir=folder / "var", executor="none", secret_key=SecretStr(TEST_SERVER_SECRET)
    )
    app = create_app(settings, engine=engine)  # installs the audit chain key the seed seals its events with
    with unit_of_work(engine) as session:
        tokens = seed_demo(session, STEWARD_YAML).tokens
    assert launch_first_release(engine, settings) is None
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{sock.getsockname()[1]}", tokens)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    engine.dispose()


def wait_until(predicate, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_the_client_fetches_once_serves_from_memory_and_revalidates_with_a_304(server):
    transport = CountingTransport()
    with StewardClient(server.url, server.tokens["coach-app"], ttl=0.2, transport=transport) as client:
        release = client.live("goal-coach")
        assert release.product == "goal-coach" and release.approvers == ("ravi", "rita")
        assert release.key_id and release.key_id.startswith("ed25519:")
        prompt = release.system_prompt(company="Acme")
        assert "Acme" in prompt and "SMART" in prompt
        assert release.variables == ("company",)
        assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in transport.sent] == [("GET", "live"), ("GET", "keys")]

        for _ in range(100):
            assert client.live("goal-coach") is release
        assert len(transport.sent) == 2, "cached calls made requests"

        time.sleep(0.25)
        assert client.live("goal-coach") is release  # served at once, revalidated behind it
        wait_until(lambda: len(transport.sent) == 3, "the background revalidation")
        assert transport.sent[-1] == ("GET", "/api/v1/products/goal-coach/live", 304)


def test_a_rendered_prompt_is_what_the_server_runs_its_suites_with(server):
    from evals.templates import render_text
    from governance.catalog.content import template_variables

    with StewardClient(server.url, server.tokens["coach-app"]) as client:
        release = client.live("goal-coach")
    documents = {
        slug: ({k: v for k, v in d.items() if k != "version"}, d["version"])
        for slug, d in release.context["documents"].items()
    }
    processes = {
        slug: ({k: v for k, v in p.items() if k != "version"}, p["version"])
        for slug, p in release.context["processes"].items()
    }
    variables = {**template_variables(documents, processes), "company": "Acme"}
    assert release.system_prompt(company="Acme") == render_text(release.prompts["system"], variables, "system")


def test_a_tampered_release_is_refused_and_never_served(server):
    transport = CountingTransport()
    transport.tamper = True
    with (
        StewardClient(server.url, server.tokens["coach-app"], transport=transport) as client,
        pytest.raises(AttestationError, match="prompt 'system' does not hash to its manifest entry"),
    ):
        client.live("goal-coach")


def test_a_release_signed_by_an_untrusted_key_is_refused(server):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Ed25519PrivateKey.generate().public_key()
    pem = stranger.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pinned = {"ed25519:0000000000000000": pem.decode()}
    with (
        StewardClient(server.url, server.tokens["coach-app"], trusted_keys=pinned) as client,
        pytest.raises(AttestationError, match="not a trusted key"),
    ):
        client.live("goal-coach")


def test_the_last_good_release_is_served_while_the_server_is_down_and_a_fallback_before_any(server):
    transport = CountingTransport()
    with StewardClient(server.url, server.tokens["coach-app"], ttl=0.1, transport=transport) as client:
        release = client.live("goal-coach")
        transport.down = True
        time.sleep(0.15)
        for _ in range(5):
            assert client.live("goal-coach") is release
            time.sleep(0.05)

    fallback = LiveRelease.from_response(
        {
            "product": "goal-coach",
            "release": 0,
            "manifest_hash": "",
            "went_live_at": "2026-01-01T00:00:00+00:00",
            "approvers": [],
            "signed_off_by": None,
            "model": {},
            "prompts": {"system": {"template": "You are a careful assistant; refer HR questions to a person."}},
            "documents": {},
            "processes": {},
        },
        key_id=None,
    )
    dead = CountingTransport()
    dead.down = True
    with StewardClient(server.url, "stw_x", transport=dead, fallback=lambda slug: fallback) as client:
        assert client.live("goal-coach") is fallback
    with StewardClient(server.url, "stw_x", transport=dead) as client, pytest.raises(StewardUnavailable):
        client.live("goal-coach")


def test_a_suspended_product_raises_and_is_never_served_from_the_cache(server):
    transport = CountingTransport()
    reason = {"reason": "Stopping while we look at a complaint about the coach's advice."}
    with StewardClient(server.url, server.tokens["coach-app"], ttl=0.1, transport=transport) as client:
        client.live("goal-coach")
        with server.api("rita") as rita:
            assert rita.post("/products/goal-coach/suspend", json=reason).status_code == 200
        try:
            time.sleep(0.15)
            client.live("goal-coach")  # still the cached release; this starts the revalidation that learns of it
            wait_until(lambda: transport.sent[-1][2] == 423, "the revalidation to see the suspension")
            with pytest.raises(ProductSuspended, match="complaint") as raised:
                client.live("goal-coach")
            assert raised.value.product == "goal-coach"
        finally:
            with server.api("ravi") as ravi:
                note = {"note": "Complaint reviewed; the advice was within policy."}
                assert ravi.post("/products/goal-coach/resume", json=note).status_code == 200
        assert client.refresh("goal-coach").product == "goal-coach"


def test_a_product_with_nothing_live_raises_no_live_release(server):
    with server.api("olivia") as olivia:
        created = olivia.post(
            "/products",
            json={
                "slug": "policy-bot",
                "name": "Policy bot",
                "risk_tier": "limited",
                "model": {"provider": "offline", "name": "m"},
            },
        )
        assert created.status_code == 201, created.text
    with server.api("ada") as ada:
        body = {"name": "policy-app", "roles": ["runtime"], "products": ["policy-bot"]}
        token = ada.post("/users", json=body).json()["token"]
    with StewardClient(server.url, token) as client, pytest.raises(NoLiveRelease, match="no live release"):
        client.live("policy-bot")


def test_the_client_imports_without_the_servers_dependencies():
    code = (
        "import sys, steward_client; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'sqlalchemy', 'service', 'governance', 'evals', 'celery', 'alembic')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_feedback_is_sent_in_the_background_redacted_and_only_for_the_products_served(server):
    with StewardClient(server.url, server.tokens["coach-app"], feedback_interval=0.05) as client:
        release = client.live("goal-coach")
        client.feedback(
            "goal-coach",
            thumbs="down",
            human_action="overrode",
            comment="Wrong advice; write to me at jane.doe@example.com",
            tags=["pilot"],
        )
        client.feedback("goal-coach", stars=5, human_action="accepted")
        wait_until(lambda: client.feedback_queue.sent == 2, "the background sender")
        client.feedback("policy-bot", release=1, thumbs="up")
        assert client.feedback_queue.flush()
        assert client.feedback_queue.refused == 1 and "not for 'policy-bot'" in (client.feedback_queue.last_error or "")
    with server.api("olivia") as olivia:
        items = olivia.get("/products/goal-coach/feedback").json()["items"]
    mine = [i for i in items if i["created_by"] == "coach-app"]
    assert len(mine) == 2 and {i["release"] for i in mine} == {release.number}
    [comment] = [i["comment"] for i in mine if i["comment"]]
    assert "jane.doe@example.com" not in comment and "Wrong advice" in comment


def test_feedback_waits_while_steward_is_down_and_is_sent_when_it_returns(server):
    transport = CountingTransport()
    with StewardClient(server.url, server.tokens["coach-app"], feedback_interval=60, transport=transport) as client:
        client.live("goal-coach")
        transport.down = True
        client.feedback("goal-coach", thumbs="up")
        assert not client.feedback_queue.flush() and client.feedback_queue.pending == 1
        transport.down = False
        assert client.feedback_queue.flush() and client.feedback_queue.sent == 1


def test_the_readmes_example_runs_as_written(server, fake_model, monkeypatch):
    """The chat endpoint in README's "Using the live release in your application", with the real openai SDK."""
    fake_model.latency = 0
    section = (PROJECT_ROOT / "README.md").read_text().split("## Using the live release in your application", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0].replace("http://127.0.0.1:8000", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_model.base_url)
    example: dict[str, object] = {"COACH_APP_TOKEN": server.tokens["coach-app"]}
    exec(compile(code, "README.md", "exec"), example)
    chat = example["chat"]
    assert chat("I want to present better.") == "A measurable goal for: I want to present better."  # type: ignore[operator]
    system, user = fake_model.requests[-1]["messages"]
    assert system["role"] == "system" and "Acme" in system["content"] and user["content"] == "I want to present better."

    reason = {"reason": "Stopping the coach while a complaint is investigated."}
    with server.api("rita") as rita:
        assert rita.post("/products/goal-coach/suspend", json=reason).status_code == 200
    try:
        with pytest.raises(ProductSuspended):
            example["steward"].refresh("goal-coach")  # type: ignore[attr-defined]
        assert "unavailable" in chat("Help me set a goal.")  # type: ignore[operator]
    finally:
        with server.api("ravi") as ravi:
            assert ravi.post("/products/goal-coach/resume", json={"note": "Complaint reviewed and closed."}).is_success
        example["steward"].close()  # type: ignore[attr-defined]
