"""Publishing: identical content makes no version, new content makes head+1, and versions never change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from governance.catalog import components
from governance.catalog.models import ComponentVersion
from governance.catalog.products import get_product
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.kernel.canonical import content_sha256
from governance.kernel.errors import Invalid
from tests.factories import make_product, suite_spec
from tests.governance.catalog.conftest import audit_actions, publish_document, publish_process, releases_of


def test_publishing_identical_content_makes_no_version_no_event_and_no_release(session, owner):
    slug = make_product(session, owner)
    first = components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Be kind.", message="a"))
    trail = audit_actions(session)
    releases = releases_of(session, get_product(session, slug).id)
    # The message is not content: a new message alone changes nothing.
    again = components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Be kind.", message="b"))
    assert first.created and not again.created
    assert again.version.id == first.version.id and again.component.head_number == 1
    assert audit_actions(session) == trail
    assert releases_of(session, get_product(session, slug).id) == releases


def test_new_content_becomes_the_next_version_with_its_audit_event(session, owner):
    slug = make_product(session, owner)
    for number, template in enumerate(["one", "two", "three"], start=1):
        result = components.publish_prompt(session, owner, slug, "system", PromptPublish(template=template))
        assert result.created
        assert result.version.number == result.component.head_number == number
        assert result.version.sha256 == content_sha256({"template": template})
        assert result.version.author is owner
    assert audit_actions(session).count("prompt.published") == 3


def test_a_document_keeps_its_versions_apart_from_its_metadata(session, owner):
    first = publish_document(session, owner, "policy", "text", message="first")
    same = publish_document(session, owner, "policy", "text", message="only the message differs")
    other_type = publish_document(session, owner, "policy", "text", content_type="text/plain")
    assert first.created and not same.created and other_type.created
    assert other_type.version.number == 2


def test_the_order_of_a_process_documents_is_not_content(session, owner):
    publish_document(session, owner, "doc-a")
    publish_document(session, owner, "doc-b")
    first = publish_process(session, owner, "onboarding", ["doc-a", "doc-b"])
    reordered = publish_process(session, owner, "onboarding", ["doc-b", "doc-a"])
    assert first.created and not reordered.created
    assert first.version.content["documents"] == ["doc-a", "doc-b"]


def test_a_version_refuses_to_be_updated_or_deleted(session, owner):
    publish_document(session, owner, "policy", "v1")
    version = session.scalars(select(ComponentVersion)).one()
    with session.begin_nested() as savepoint:
        version.content = {"title": "Policy", "content": "rewritten", "content_type": "text/markdown"}
        with pytest.raises(RuntimeError, match="immutable"):
            session.flush()
        savepoint.rollback()
    with session.begin_nested() as savepoint:
        session.delete(version)
        with pytest.raises(RuntimeError, match="immutable"):
            session.flush()
        savepoint.rollback()
    session.expire_all()
    assert session.scalars(select(ComponentVersion)).one().content["content"] == "v1"


def test_a_process_naming_unknown_documents_is_refused_per_document(session, owner):
    publish_document(session, owner, "known")
    with pytest.raises(Invalid) as refused:
        publish_process(session, owner, "onboarding", ["missing-one", "known", "missing-two"])
    assert [(p.field, p.reason) for p in refused.value.problems] == [
        ("documents[0]", "no document with slug 'missing-one'"),
        ("documents[2]", "no document with slug 'missing-two'"),
    ]


def test_a_suite_the_engine_cannot_run_is_refused_by_its_path(session, owner):
    slug = make_product(session, owner)
    broken = suite_spec("quality")
    broken["threshold"] = {"pass_rate": 7}
    with pytest.raises(Invalid) as refused:
        components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=broken))
    assert refused.value.problems and all(p.field.startswith("spec") for p in refused.value.problems)
    with pytest.raises(Invalid) as misnamed:
        components.publish_suite(session, owner, slug, "safety", SuitePublish(spec=suite_spec("quality")))
    assert misnamed.value.problems[0].field == "spec.name"
    assert "suite.published" not in audit_actions(session)
