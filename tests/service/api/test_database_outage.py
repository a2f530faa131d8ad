"""PostgreSQL stopped and started under a real `steward serve`: 503s with Retry-After meanwhile, then recovery.

The cluster is a private one on its own port (tests/private_services.py), so stopping it touches nobody
else's database. A thread keeps reading and writing through the API while the cluster goes away and comes
back; every answer it gets must be a success or a 503 problem+json, never a 500 or a hang, and what the
server acknowledged must be exactly what the database holds afterwards, with the audit chain intact.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from governance.accounts.roles import Role
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from tests.conftest import TEST_SERVER_SECRET
from tests.factories import auth, make_user, product_payload, suite_spec
from tests.private_services import PrivatePostgres, free_port, private_postgres, steward_server

# Far longer than any answer takes; a request that reaches it has hung.
REQUEST_TIMEOUT = 20.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    with private_postgres(free_port()) as postgres:
        upgrade(postgres.url)
        yield postgres


@pytest.fixture
def owner_token(cluster: PrivatePostgres) -> str:
    engine = make_engine(cluster.url)
    try:
        with unit_of_work(engine) as session:
            _, token = make_user(session, Role.product_owner, name="olivia")
    finally:
        engine.dispose()
    return token


@pytest.fixture
def server(cluster: PrivatePostgres, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`steward serve` on the private cluster, with the embedded executor polling it meanwhile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(STEWARD_DATABASE_URL=cluster.url, STEWARD_EXECUTOR="embedded", STEWARD_VAR_DIR=str(tmp_path / "var"))
    # The server seals audit events with the chain key the test's own writes use, so the chain verifies end to end.
    env.update(STEWARD_SECRET_KEY=TEST_SERVER_SECRET)
    with steward_server(env, tmp_path) as served:
        yield served


@dataclass
class Answer:
    method: str
    path: str
    status: int | None  # None: no answer at all (connection dropped or timed out)
    content_type: str = ""
    retry_after: str | None = None
    body: Any = None
    error: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class Traffic:
    """A client that keeps publishing document versions and reading them back until stopped."""

    api: str
    token: str
    answers: list[Answer] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def _send(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> None:
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.answers.append(Answer(method, path, None, error=f"{type(exc).__name__}: {exc}"))
            return
        try:
            body = response.json()
        except ValueError:
            body = response.text
        self.answers.append(
            Answer(
                method,
                path,
                response.status_code,
                response.headers.get("content-type", ""),
                response.headers.get("retry-after"),
                body,
            )
        )

    def _loop(self) -> None:
        with httpx.Client(base_url=self.api, headers=auth(self.token), timeout=REQUEST_TIMEOUT) as client:
            revision = 0
            while not self.stopping.is_set():
                revision += 1
                document = {"title": "Policy", "content": f"revision {revision}\n", "message": f"r{revision}"}
                self._send(client, "PUT", "/documents/policy", json=document)
                self._send(client, "GET", "/documents/policy")
                self._send(client, "GET", "/products/goal-coach")
                time.sleep(0.02)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=REQUEST_TIMEOUT * 3)
            assert not self.thread.is_alive(), "a request of the traffic thread never returned"

    def count(self, since: float, predicate: Callable[[Answer], bool]) -> int:
        return sum(1 for answer in list(self.answers) if answer.at >= since and predicate(answer))


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.05)


def unavailable(answer: Answer) -> bool:
    return answer.status == 503


def succeeded(answer: Answer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def assert_503_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == 503 and "database" in body["detail"]


def signed_in_browser(base: str, token: str) -> httpx.Client:
    browser = httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT)
    page = browser.get("/sign-in")
    match = CSRF.search(page.text)
    assert match, page.text
    signed_in = browser.post("/sign-in", data={"csrf_token": match.group(1), "token": token, "next": "/"})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/", signed_in.text
    return browser


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
def test_the_api_answers_503_while_postgres_is_down_and_recovers_without_a_restart(
    cluster: PrivatePostgres,
    server: tuple[str, subprocess.Popen[bytes]],
    owner_token: str,
    shutdown: str,
    request: pytest.FixtureRequest,
) -> None:
    base, process = server
    api = f"{base}/api/v1"
    client = httpx.Client(base_url=api, headers=auth(owner_token), timeout=REQUEST_TIMEOUT)
    request.addfinalizer(client.close)
    browser = signed_in_browser(base, owner_token)
    request.addfinalizer(browser.close)
    created = client.post("/products", json=product_payload())
    assert created.status_code == 201, created.text
    product_before = client.get("/products/goal-coach").json()
    assert browser.get("/products/goal-coach").status_code == 200

    traffic = Traffic(api, owner_token)
    traffic.start()
    try:
        started = time.monotonic()
        wait_for(lambda: traffic.count(started, lambda a: a.method == "PUT" and succeeded(a)) >= 3, 20, "writes")

        cluster.stop(shutdown)
        stopped = time.monotonic()
        wait_for(lambda: traffic.count(stopped, lambda a: a.method == "PUT" and unavailable(a)) >= 3, 20, "503 writes")
        wait_for(lambda: traffic.count(stopped, lambda a: a.method == "GET" and unavailable(a)) >= 3, 20, "503 reads")
        # A product read checked just before the outage may be answered from memory for STEWARD_VIEW_CACHE_SECONDS
        # (service/api/view_cache.py); after that it needs the database like every other read.
        product_503 = lambda a: a.path == "/products/goal-coach" and unavailable(a)  # noqa: E731
        wait_for(lambda: traffic.count(stopped, product_503) >= 1, 20, "a 503 product read")

        assert_503_problem(client.get("/products/goal-coach"))
        assert_503_problem(client.post("/products", json=product_payload("written-during-outage")))
        assert_503_problem(client.get("/audit/verify"))
        page = browser.get("/products/goal-coach")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html"), page.text
        assert "Temporarily unavailable" in page.text and int(page.headers["retry-after"]) > 0
        assert httpx.get(f"{base}/healthz", timeout=REQUEST_TIMEOUT).status_code == 200

        cluster.start()
        restarted = time.monotonic()
        # The first request after the restart succeeds: the pool replaces its dead connections by itself.
        assert client.get("/products/goal-coach").json() == product_before
        wait_for(lambda: traffic.count(restarted, lambda a: a.method == "PUT" and succeeded(a)) >= 3, 20, "writes")
    finally:
        traffic.stop()

    assert process.poll() is None, "steward serve died; it must ride the outage out"
    answers = traffic.answers
    no_answer = [a for a in answers if a.status is None]
    assert not no_answer, f"requests got no answer (dropped or hung): {no_answer[:3]}"
    others = [(a.method, a.path, a.status, a.body) for a in answers if not (succeeded(a) or unavailable(a))]
    assert not others, f"answers other than success or 503: {others[:3]}"
    for answer in filter(unavailable, answers):
        assert answer.content_type == "application/problem+json" and answer.retry_after, answer

    # Every version the server acknowledged is stored, with what was sent; the versions have no gap.
    acknowledged = {
        a.body["version"]["number"]: a.body["version"] for a in answers if a.method == "PUT" and a.status == 201
    }
    versions: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page_of = client.get("/documents/policy/versions", params=params).json()
        versions += page_of["items"]
        if not (cursor := page_of["next"]):
            break
    numbers = [v["number"] for v in versions]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(acknowledged) <= set(numbers)
    stored = {v["number"]: (v["sha256"], v["message"]) for v in versions}
    assert {n: stored[n] for n in acknowledged} == {n: (v["sha256"], v["message"]) for n, v in acknowledged.items()}

    assert client.get("/products/written-during-outage").status_code == 404
    assert client.post("/products", json=product_payload("written-after-outage")).status_code == 201
    verified = client.get("/audit/verify").json()
    assert verified["ok"] is True and verified["first_bad_seq"] is None, verified
    assert browser.get("/products/goal-coach").status_code == 200

    # The server's executor outlived the outage: a suite published now is run, and its release passes.
    prompt = {"template": "Coach the employee: {{ employee_message }}", "message": "first prompt"}
    assert client.put("/products/goal-coach/prompts/system", json=prompt).status_code == 201
    suite = {"spec": suite_spec(cases=3), "message": "first suite"}
    assert client.put("/products/goal-coach/suites/quality", json=suite).status_code == 201
    release_id = client.get("/products/goal-coach").json()["pending_release"]
    wait_for(lambda: client.get(f"/releases/{release_id}").json()["state"] != "testing", 30, "the suite to run")
    release = client.get(f"/releases/{release_id}").json()
    assert release["state"] == "passed" and [r["recorded"] for r in release["runs"]] == [3], release
