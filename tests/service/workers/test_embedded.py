"""The embedded executor end to end: the server's own threads execute what its requests queue, and survive restarts."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import httpx
import pytest

from evals import CaseResult
from governance.accounts.roles import Role
from governance.kernel.db import utcnow
from governance.runs.execution import claim_chunk, record_results
from service.app import create_app
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import Settings
from service.workers.embedded import EmbeddedExecutor
from tests.factories import auth, make_user, product_payload, suite_spec
from tests.service.workers.conftest import chunks_of, publish_product, recorded, run_of, wait_for, wait_for_release


def embedded_settings(url: str, tmp_path, **overrides) -> Settings:
    values = {"executor_poll_seconds": 0.2, "lease_seconds": 2.0, "webhook_allow_private_addresses": True, **overrides}
    return Settings(database_url=url, var_dir=tmp_path / "var", executor="embedded", **values)


async def wait_until_tested(client: httpx.AsyncClient, release_id: int, token: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        release = (await client.get(f"/releases/{release_id}", headers=auth(token))).json()
        if release["state"] != "testing":
            return release
        await asyncio.sleep(0.1)
    raise AssertionError(f"release {release_id} still testing after {timeout} s")


async def publish_through_the_api(client: httpx.AsyncClient, token: str, template: str) -> int:
    created = await client.post("/products", json=product_payload("goal-coach"), headers=auth(token))
    assert created.status_code == 201, created.text
    prompt = await client.put("/products/goal-coach/prompts/system", json={"template": template}, headers=auth(token))
    assert prompt.status_code == 201, prompt.text
    suite = await client.put(
        "/products/goal-coach/suites/quality", json={"spec": suite_spec(cases=4)}, headers=auth(token)
    )
    assert suite.status_code == 201, suite.text
    releases = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"]
    return releases[0]["id"]


@pytest.mark.parametrize(
    ("template", "state"),
    [
        ("Coach the employee. They wrote: {{ employee_message }}", "passed"),
        ("Hello {{ employee_name }}. They wrote: {{ employee_message }}", "failed"),
    ],
    ids=["passes", "template-error-fails"],
)
async def test_a_publish_is_tested_by_the_server_itself(
    shared_engine, shared_database_url, tmp_path, owner_token, template, state
):
    # Polling so rarely that only the request's own hand-over can start the run within the test's time.
    settings = embedded_settings(shared_database_url, tmp_path, executor_poll_seconds=60)
    app = create_app(settings, engine=shared_engine)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://steward.test/api/v1") as client,
    ):
        release_id = await publish_through_the_api(client, owner_token, template)
        release = await wait_until_tested(client, release_id, owner_token)

    assert release["state"] == state
    [run] = release["runs"]
    if state == "passed":
        assert run["state"] == "passed" and release["error"] is None
        assert recorded(shared_engine, run["id"]) == [(f"case-{i}", 0) for i in range(4)]
    else:
        assert run["state"] == "error"
        assert "template error" in release["error"] and "employee_name" in release["error"]


def test_a_restart_resumes_queued_and_interrupted_chunks(shared_engine, shared_database_url, tmp_path):
    # Queued while no server ran (as `steward demo` does), and one chunk interrupted by a crash mid-way.
    published = publish_product(shared_engine, cases=6, chunk_size=2)
    assert len(published.chunk_ids) == 3
    with unit_of_work(shared_engine) as session:
        interrupted = claim_chunk(session, "crashed-server", chunk_id=published.chunk_ids[0], lease_seconds=60)
        interrupted.lease_expires_at = utcnow() + timedelta(seconds=1)
        record_results(
            session, interrupted.run_id, [CaseResult(case_id="case-0", repeat_index=0, outcome="passed", score=1.0)]
        )

    executor = EmbeddedExecutor(shared_engine, embedded_settings(shared_database_url, tmp_path))
    executor.start()
    try:
        state, error = wait_for_release(shared_engine, published.release_id)
    finally:
        executor.stop()

    assert (state, error) == ("passed", None)
    run = run_of(shared_engine, published.release_id)
    assert recorded(shared_engine, run.id) == [(f"case-{i}", 0) for i in range(6)]
    assert [(c.state, c.attempts) for c in chunks_of(shared_engine, run.id)] == [("done", 2), ("done", 1), ("done", 1)]


def test_the_executor_runs_no_more_chunks_at_once_than_its_slots(shared_engine, shared_database_url, tmp_path):
    published = publish_product(shared_engine, cases=8, chunk_size=1)
    executor = EmbeddedExecutor(shared_engine, embedded_settings(shared_database_url, tmp_path, embedded_workers=2))
    # Count executions in flight from inside them: sampling from outside misses chunks that finish in milliseconds.
    in_flight, most, lock = 0, 0, threading.Lock()
    execute = executor._execute

    def counting_execute(chunk_id: int) -> bool:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            time.sleep(0.05)  # long enough for a third slot to show if the limit did not hold
            return execute(chunk_id)
        finally:
            with lock:
                in_flight -= 1

    executor._execute = counting_execute
    executor.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and run_of(shared_engine, published.release_id).state != "passed":
            time.sleep(0.02)
    finally:
        executor.stop()
    assert run_of(shared_engine, published.release_id).state == "passed"
    assert most == 2


class RecordingExecutor:
    def __init__(self) -> None:
        self.submitted: list[list[int]] = []

    def submit(self, chunk_ids) -> None:
        self.submitted.append(list(chunk_ids))

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


async def test_requests_hand_committed_chunks_to_the_executor_and_nothing_else(app, client, session):
    recorder = app.state.executor = RecordingExecutor()
    _, token = make_user(session, Role.product_owner)
    await client.post("/products", json=product_payload("goal-coach"), headers=auth(token))
    await client.put(
        "/products/goal-coach/prompts/system", json={"template": "{{ employee_message }}"}, headers=auth(token)
    )
    assert recorder.submitted == []  # no suite yet: the release failed without runs

    bad = await client.put("/products/goal-coach/suites/quality", json={"spec": {"cases": "x"}}, headers=auth(token))
    assert bad.status_code == 422 and recorder.submitted == []

    published = await client.put(
        "/products/goal-coach/suites/quality", json={"spec": suite_spec()}, headers=auth(token)
    )
    assert published.status_code == 201
    [chunk_ids] = recorder.submitted
    release = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"][0]
    [run] = (await client.get(f"/releases/{release['id']}", headers=auth(token))).json()["runs"]
    assert len(chunk_ids) == 1 and run["state"] == "queued"


class HealthPoller:
    """Asks a server's /healthz every 50 ms from a thread, remembering how long each answer took."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answers: list[tuple[float, int | str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status: int | str = client.get("/healthz").status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.answers.append((time.monotonic() - started, status))
                self._stop.wait(0.05)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


TEMPLATE_BOMBS = [
    ("{{ (7**(7**9)) % 10 }}", "the result of ** of"),
    ("{{ ('a' * 10**8)|length }}", "the result of * of 100,000,000 items exceeds the limit"),
    (
        "{% set s = 'a' * 1000000 %}{% for x in s %}{% for y in s %}{% endfor %}{% endfor %}",
        "render time exceeds the limit of 1 seconds",
    ),
    ("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", "rendered output of"),
]


@pytest.mark.slow
def test_templates_that_would_stall_the_server_fail_their_cases_while_it_keeps_answering(tmp_path):
    import socket

    import uvicorn

    url = f"sqlite:///{tmp_path / 'steward.db'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        token = make_user(session, Role.product_owner, name="olivia")[1]
    settings = embedded_settings(url, tmp_path, template_max_render_seconds=1.0)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), log_level="warning", lifespan="on"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 15, "uvicorn to start")
    api = httpx.Client(base_url=f"{base}/api/v1", headers=auth(token), timeout=30)
    try:
        with HealthPoller(base) as health:
            assert api.post("/products", json=product_payload("goal-coach")).status_code == 201
            assert api.put("/products/goal-coach/suites/quality", json={"spec": suite_spec(cases=2)}).is_success
            for template, reason in TEMPLATE_BOMBS:
                published = api.put("/products/goal-coach/prompts/system", json={"template": template})
                assert published.status_code == 201, published.text
                release_id = api.get("/products/goal-coach/releases").json()["items"][0]["id"]
                release = wait_for(
                    lambda release_id=release_id: (
                        (r := api.get(f"/releases/{release_id}").json())["state"] != "testing" and r
                    ),
                    60,
                    f"release {release_id} to be tested",
                )
                assert release["state"] == "failed", (template, release)
                run = api.get(f"/runs/{release['runs'][0]['id']}").json()
                assert run["state"] == "error", (template, run)
                errors = [case["error"] or "" for case in run["cases"]]
                assert len(errors) == 2 and all(reason in error for error in errors), (template, errors)
    finally:
        api.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        engine.dispose()

    # Every poll was answered (a stalled server would time out after 5 s); the slowest is in the message.
    slowest = max(seconds for seconds, _ in health.answers)
    assert len(health.answers) > 20, health.answers
    assert all(status == 200 for _, status in health.answers), [a for a in health.answers if a[1] != 200]
    print(f"/healthz answered {len(health.answers)} polls during the renders; the slowest took {slowest:.3f} s")
