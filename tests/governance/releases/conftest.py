"""Helpers for the releases tests: products that change through the catalog, releases moved through the workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.models import Product
from governance.catalog.products import get_product
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.releases.cutting import cut_release_by_hand
from governance.releases.models import Release, ReleaseState
from governance.releases.workflow import transition
from tests.factories import make_product, make_user, suite_spec


def releases_of(session, slug: str) -> list[Release]:
    product = get_product(session, slug)
    return list(session.scalars(select(Release).where(Release.product_id == product.id).order_by(Release.number)))


def change(session, actor, slug: str, template: str) -> Release:
    """A change of what the product is made of (a new prompt head); the release it cut."""
    assert components.publish_prompt(session, actor, slug, "system", PromptPublish(template=template)).created
    return releases_of(session, slug)[-1]


def add_suite(session, actor, slug: str, name: str = "quality", *, cases: int = 2) -> Release:
    components.publish_suite(session, actor, slug, name, SuitePublish(spec=suite_spec(name, cases=cases)))
    return releases_of(session, slug)[-1]


def move(session, release: Release, *states: ReleaseState, actor="system") -> Release:
    """Walk ``release`` through ``states`` with the workflow's one transition function."""
    slug = session.get(Product, release.product_id).slug
    for state in states:
        transition(session, release, state, actor=actor, action=f"release.{state.value}", product_slug=slug)
    return release


def make_live(session, owner, slug: str) -> Release:
    """A live release of the product's current manifest (a waived, approved release without runs)."""
    release = cut_release_by_hand(session, owner, slug, "first release")
    if release.state == ReleaseState.testing.value:
        move(session, release, ReleaseState.failed)
    return move(session, release, ReleaseState.signed_off, ReleaseState.approved, ReleaseState.live)


@pytest.fixture
def owner(session):
    return make_user(session, Role.product_owner)[0]


@pytest.fixture
def product(session, owner) -> str:
    """A high-risk product (revalidation within 14 days by the default policy), no suites."""
    return make_product(session, owner)
