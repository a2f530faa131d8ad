"""Schemathesis drives every operation of the API from its own OpenAPI document, as each role, and the answers
must conform to that document: no server errors, only declared statuses, content types, bodies and headers.

Run alone: ``.venv/bin/python -m pytest tests/service/api/test_openapi_conformance.py``. Generation is derandomized
(the same cases on every run); STEWARD_TEST_CONFORMANCE_EXAMPLES raises the number of examples for a deeper local run.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from governance.accounts.users import authenticate, get_user, issue_token
from governance.kernel.errors import Unauthenticated
from service.api.openapi import DocumentedAPI
from service.app import create_app
from service.database import engine_for, unit_of_work
from service.migrate import upgrade
from service.seed import launch_first_release, seed_demo
from service.settings import Settings
from tests.conftest import TEST_SERVER_SECRET

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# One demo user of each role.
ROLES = {"admin": "ada", "product_owner": "olivia", "reviewer": "rita", "ci": "ci-bot", "runtime": "coach-app"}
EXAMPLES = int(os.environ.get("STEWARD_TEST_CONFORMANCE_EXAMPLES", "6"))
STATEFUL_SCENARIOS = int(os.environ.get("STEWARD_TEST_CONFORMANCE_SCENARIOS", "15"))

SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@dataclass(frozen=True)
class Seeded:
    app: DocumentedAPI
    engine: Engine
    database: Path
    snapshot: Path
    demo_tokens: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def restore(self) -> None:
        """Back to the freshly seeded demo, so each pass and each link-following sequence starts from the same
        state: what a run sends then depends only on its seed, whatever ran before it."""
        self.engine.dispose()
        with closing(sqlite3.connect(self.snapshot)) as source, closing(sqlite3.connect(self.database)) as target:
            source.backup(target)
        self.tokens.clear()
        self.tokens.update(self.demo_tokens)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The demo on a SQLite file of its own: its users and tokens, and the reference product live."""
    directory = tmp_path_factory.mktemp("conformance")
    database, snapshot = directory / "steward.db", directory / "seeded.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        var_dir=directory / "var",
        executor="none",
        max_body_bytes=64 * 1024,
        secret_key=SecretStr(TEST_SERVER_SECRET),  # the chain key the tests' own writes seal with
    )
    engine = engine_for(url)
    app = create_app(settings, engine=engine)  # installs the audit chain key the seed seals with
    with unit_of_work(engine) as session:
        result = seed_demo(session, Path(settings.prompts_dir) / "goal_coach" / "steward.yaml")
    assert launch_first_release(engine, settings) is None
    engine.dispose()
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(snapshot)) as copy:
        source.backup(copy)
    yield Seeded(app=app, engine=engine, database=database, snapshot=snapshot, demo_tokens=result.tokens)
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(seeded: Seeded) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", seeded.app)


def bearer(seeded: Seeded, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[ROLES[role]]}"}


def reissue_revoked_tokens(seeded: Seeded) -> None:
    """Generated requests may revoke a demo user's token (DELETE /tokens/{token_id} with a small id): issue
    another, or every later request as that role would stop at 401 and test nothing else."""
    with unit_of_work(seeded.engine) as session:
        for name, token in list(seeded.tokens.items()):
            try:
                authenticate(session, token, runtime=True)
            except Unauthenticated:
                seeded.tokens[name] = issue_token(session, get_user(session, name), label="conformance")


@dataclass
class Tally:
    """What a pass did, for its summary line: requests per operation, answers by status class, failures by kind."""

    requests: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)

    def record(self, operation: str, status: int) -> None:
        self.requests[operation] += 1
        self.answers[f"{status // 100}xx"] += 1

    def record_failure(self, operation: str, failure: BaseException) -> None:
        found = failure.exceptions if isinstance(failure, BaseExceptionGroup) else [failure]
        self.kinds.update(getattr(each, "title", type(each).__name__) for each in found)
        notes = "\n".join(getattr(failure, "__notes__", []))
        self.failures.setdefault(operation, []).append(f"{failure}\n{notes}")

    def summary(self) -> str:
        kinds = "".join(f"; {count} {kind}" for kind, count in self.kinds.most_common())
        return (
            f"{len(self.requests)} operations, {sum(self.requests.values())} requests "
            f"({', '.join(f'{n} {c}' for c, n in sorted(self.answers.items()))}), "
            f"{sum(self.kinds.values())} failures{kinds}"
        )


# The demo's things, by the path parameter naming them: a pass sends them instead of random names, so requests
# get past the 404 to the handlers (publishing, sign-off, reading history) with generated bodies and queries.
def demo_path_parameters(path: str) -> dict[str, object]:
    known: dict[str, object] = {"number": 1, "release_id": 1, "run_id": 1, "name": "olivia"}
    if path.startswith("/api/v1/products/"):
        known["slug"] = "goal-coach"
        known["name"] = "system" if "/prompts/" in path else "goal-coach-quality"
    elif path.startswith("/api/v1/documents/"):
        known["slug"] = "smart-goals-guide"
    elif path.startswith("/api/v1/processes/"):
        known["slug"] = "goal-setting"
    return {name: value for name, value in known.items() if "{" + name + "}" in path}


PASSES = {
    "positive": (GenerationMode.POSITIVE, False),
    "negative": (GenerationMode.NEGATIVE, False),
    "positive on the demo's things": (GenerationMode.POSITIVE, True),
}


def operation_takes_input(operation: schemathesis.APIOperation) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody") or definition.get("security"))


def exercise(operation: schemathesis.APIOperation, pass_name: str, seeded: Seeded, tally: Tally) -> None:
    """Send the cases schemathesis derives from the operation's document as each role, checking every answer."""
    mode, on_demo = PASSES[pass_name]
    fixed = demo_path_parameters(operation.path) if on_demo else {}
    if on_demo and not fixed:
        return  # names nothing: the positive pass covers it

    @SETTINGS
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    def each_case(case: schemathesis.Case) -> None:
        # Each case goes out as every role: what one may do another is refused, and both must be documented.
        for role in ROLES:
            try:
                response = case.call_and_validate(checks=CHECKS, headers=bearer(seeded, role))
            except (Exception, BaseExceptionGroup) as failure:
                failure.add_note(f"(sent as the demo {role}, {ROLES[role]})")
                raise
            tally.record(operation.label, response.status_code)

    reissue_revoked_tokens(seeded)
    try:
        each_case()
    except hypothesis.errors.Unsatisfiable:
        # Nothing to get wrong: an operation without parameters, body or token has no invalid request.
        if mode is GenerationMode.POSITIVE or operation_takes_input(operation):
            raise
    except (Exception, BaseExceptionGroup) as failure:
        tally.record_failure(operation.label, failure)


@pytest.mark.parametrize("pass_name", PASSES)
def test_every_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, seeded: Seeded, pass_name: str
) -> None:
    seeded.restore()
    tally = Tally()
    for result in api_schema.get_all_operations():
        exercise(result.ok(), pass_name, seeded, tally)
    print(f"schemathesis, {pass_name}: {tally.summary()}")
    assert tally.failures == {}, "\n\n".join(f"{op}:\n" + "\n".join(found) for op, found in tally.failures.items())
    if pass_name == "positive":
        document = seeded.app.openapi()
        assert len(tally.requests) == sum(len(item) for item in document["paths"].values())


@pytest.mark.parametrize("role", ROLES)
def test_following_links_answers_as_documented(api_schema: schemathesis.BaseSchema, role: str, seeded: Seeded) -> None:
    steps: list[tuple[str, int]] = []

    # Only the operations the links join: every sequence then starts where a link can be followed.
    linked = {
        operation_id
        for item in seeded.app.openapi()["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
        for operation_id in (operation["operationId"], link["operationId"])
    }

    class Journey(api_schema.include(operation_id=sorted(linked)).as_state_machine()):  # type: ignore[misc]
        """Sequences of calls, each step taking its parameters from an earlier answer through the links."""

        def setup(self) -> None:
            seeded.restore()

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": bearer(seeded, role)}

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            steps.append((case.operation.label, response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))

    Journey.run(
        settings=hypothesis.settings(
            SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=8, phases=[hypothesis.Phase.generate]
        )
    )
    succeeded = Counter(label for label, status in steps if status < 400)
    print(
        f"schemathesis, links as {role}: {len(steps)} requests, {len({label for label, _ in steps})} operations, "
        f"succeeded: {dict(succeeded)}"
    )
