"""Helpers for the runs tests: publish suites through the catalog, read back the runs and chunks a cut queued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import SuitePublish
from governance.releases.models import Release
from governance.runs.models import Run, RunChunk
from tests.factories import make_product, make_user, suite_spec


def publish_suite(session, actor, slug: str, name: str = "quality", *, cases: int = 2, spec: dict | None = None):
    data = SuitePublish(spec=spec or suite_spec(name, cases=cases))
    assert components.publish_suite(session, actor, slug, name, data).created
    return newest_release(session, slug)


def newest_release(session, slug: str) -> Release:
    product = get_product(session, slug)
    query = select(Release).where(Release.product_id == product.id).order_by(Release.number.desc()).limit(1)
    return session.scalars(query).one()


def runs_of(session, release: Release) -> list[Run]:
    return list(session.scalars(select(Run).where(Run.release_id == release.id).order_by(Run.suite_name)))


def chunks_of(session, run: Run) -> list[RunChunk]:
    return list(session.scalars(select(RunChunk).where(RunChunk.run_id == run.id).order_by(RunChunk.index)))


@pytest.fixture
def owner(session):
    return make_user(session, Role.product_owner)[0]


@pytest.fixture
def product(session, owner) -> str:
    return make_product(session, owner)
