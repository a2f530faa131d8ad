"""Helpers for the catalog tests: publish through the domain functions, read back releases and the trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.audit.reading import export_events
from governance.catalog import components, links
from governance.catalog.schemas import DocumentPublish, LinksUpdate, ProcessPublish, ProcessStep
from governance.releases.models import Release
from tests.factories import make_user


def publish_document(session, actor, slug: str, content: str = "v1", **extra):
    return components.publish_document(
        session, actor, slug, DocumentPublish(title=slug.title(), content=content, **extra)
    )


def publish_process(session, actor, slug: str, documents: list[str], *, steps: tuple[str, ...] = ("review",), **extra):
    data = ProcessPublish(name=slug, steps=[ProcessStep(name=step) for step in steps], documents=documents, **extra)
    return components.publish_process(session, actor, slug, data)


def link(session, actor, product: str, *, documents: list[str] = (), processes: list[str] = ()):
    return links.set_product_links(
        session, actor, product, LinksUpdate(documents=list(documents), processes=list(processes))
    )


def releases_of(session, product_id: int) -> list[Release]:
    return list(session.scalars(select(Release).where(Release.product_id == product_id).order_by(Release.number)))


def audit_actions(session) -> list[str]:
    return [record["action"] for record in export_events(session)]


@pytest.fixture
def owner(session):
    return make_user(session, Role.product_owner)[0]
