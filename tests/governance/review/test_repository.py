"""Review's reads: every query lives in its repository, and a page of many releases reads them in a fixed number
of queries (one per kind of row), with the same records as reading them one by one."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.kernel.db import utcnow
from governance.releases.models import Release
from governance.releases.repository import list_for_product
from governance.review import decisions
from governance.review.facts import facts_of, gather, gather_by_id, gather_many
from service.settings import PROJECT_ROOT
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks

# The parts of the tree review owns: SQL only in governance/review/repository.py, none at all in the web app.
CHECKED = [PROJECT_ROOT / "governance" / "review", PROJECT_ROOT / "service" / "web"]
ALLOWED_FILES = {PROJECT_ROOT / "governance" / "review" / "repository.py"}
SESSION_CALLS = {"execute", "scalars", "scalar", "query", "get"}
SESSION_NAMES = {"session", "db", "connection"}


def python_files() -> Iterator[Path]:
    for root in CHECKED:
        yield from (path for path in sorted(root.rglob("*.py")) if path not in ALLOWED_FILES)


def sql_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            # A type annotation may name the session; select, func, text and the rest are the repository's.
            found += [f"imports {alias.name}" for alias in node.names if alias.name != "Session"]
        elif isinstance(node, ast.Import):
            found += [f"imports {alias.name}" for alias in node.names if alias.name.startswith("sqlalchemy")]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if isinstance(receiver, ast.Name) and receiver.id in SESSION_NAMES and node.func.attr in SESSION_CALLS:
                found.append(f"line {node.lineno}: {receiver.id}.{node.func.attr}(...)")
    return found


@pytest.mark.parametrize("path", list(python_files()), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_queries_live_only_in_the_repository(path: Path) -> None:
    assert sql_in(path) == []


def test_the_check_sees_a_query() -> None:
    assert sql_in(PROJECT_ROOT / "governance" / "review" / "repository.py")


def newest_release(session: Session, slug: str) -> Release:
    return list_for_product(session, get_product(session, slug).id, before_number=0, limit=1)[0]


@pytest.fixture
def releases(session: Session) -> list[Release]:
    """Three products: one failed, one signed off and approved once, one superseded by a newer one testing."""
    owner = make_user(session, Role.product_owner, name="olivia")[0]
    rita = make_user(session, Role.reviewer, name="rita")[0]
    slugs = [make_product(session, owner) for _ in range(3)]
    for slug, expect in zip(slugs, ["words no answer contains", "goal", "goal"], strict=True):
        components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Coach.", message=""))
        suite = SuitePublish(spec=suite_spec(expect=expect), message="")
        components.publish_suite(session, owner, slug, "quality", suite)
    run_queued_chunks(session)
    signed = newest_release(session, slugs[1])
    decisions.sign_off(session, owner, signed.id, decisions.SignOffRequest(note="fine"))
    decisions.approve(session, rita, signed.id, decisions.ApproveRequest(note="ok"))
    components.publish_prompt(session, owner, slugs[2], "system", PromptPublish(template="Coach more.", message=""))
    session.flush()
    products = [get_product(session, slug).id for slug in slugs]
    return [r for pid in products for r in list_for_product(session, pid, before_number=0, limit=10)]


def test_gathering_many_gives_each_release_the_record_gathering_it_alone_gives(
    session: Session, releases: list[Release]
) -> None:
    together = gather_many(session, releases)
    assert set(together) == {r.id for r in releases}
    now = utcnow()
    for release in releases:
        alone = gather(session, release)
        assert together[release.id] == alone
        assert facts_of(together[release.id], now) == facts_of(alone, now)
    assert {"failed", "signed_off", "superseded", "testing"} <= {r.state for r in releases}
    assert gather_by_id(session, [releases[0].id, 999_999]).keys() == {releases[0].id}


def count_queries(connection: Connection, work: object) -> int:
    seen: list[str] = []

    def note(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", note)
    try:
        assert callable(work)
        work()
    finally:
        event.remove(connection, "before_cursor_execute", note)
    return len(seen)


def test_gathering_reads_each_kind_of_row_once_however_many_releases(
    session: Session, connection: Connection, releases: list[Release]
) -> None:
    one = count_queries(connection, lambda: gather_many(session, releases[:1]))
    every = count_queries(connection, lambda: gather_many(session, releases))
    assert every <= one + 1  # the one extra: the release after a superseded one
    assert every <= 11  # 9, plus obligation evidence and document findings (governance.compliance)
