"""Publishing is idempotent, version numbers are monotonic and versions never change (property-based)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.history import list_versions
from governance.catalog.models import ComponentVersion
from governance.catalog.schemas import DocumentPublish, PromptPublish
from governance.kernel.canonical import content_sha256
from tests.factories import make_product, make_user

TEMPLATES = st.sampled_from(["You are a coach.", "You are a goal coach.", "Ask one question at a time.", "é ✓"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(TEMPLATES, min_size=1, max_size=8))
def test_publishing_is_idempotent_and_versions_are_monotonic_and_immutable(session, sequence):
    with session.begin_nested() as savepoint:
        owner, _ = make_user(session, Role.product_owner)
        slug = make_product(session, owner)
        published: dict[int, tuple[str, str]] = {}
        head_template = None
        for template in sequence:
            result = components.publish_prompt(session, owner, slug, "system", PromptPublish(template=template))
            if template == head_template:
                assert not result.created
            else:
                assert result.created
                assert result.version.number == len(published) + 1
                published[result.version.number] = (template, result.version.sha256)
            assert result.version.content == {"template": template}
            assert result.component.head_number == len(published)
            head_template = template
        component = result.component
        # Every earlier version still has exactly the content and hash it was written with.
        session.expire_all()
        rows = list_versions(session, component, after=0, limit=100).items
        assert [v.number for v in rows] == list(range(1, len(published) + 1))
        for version in rows:
            template, sha = published[version.number]
            assert version.content == {"template": template}
            assert version.sha256 == sha == content_sha256({"template": template})
        savepoint.rollback()


def test_a_version_row_refuses_to_be_changed(session):
    owner, _ = make_user(session, Role.product_owner)
    components.publish_document(session, owner, "policy", DocumentPublish(title="P", content="v1"))
    version = session.scalars(select(ComponentVersion)).one()
    version.message = "rewritten history"
    try:
        session.flush()
    except RuntimeError as exc:
        assert "immutable" in str(exc)
    else:
        raise AssertionError("a version was updated")
    finally:
        session.rollback()


def test_reverting_to_older_content_makes_a_new_head(session):
    # Identical-to-head content makes no version; returning to older content is a change a reviewer must
    # see, so it becomes a new head rather than moving the head backwards.
    owner, _ = make_user(session, Role.product_owner)
    for content, expected in [("v1", 1), ("v2", 2), ("v1", 3), ("v1", 3)]:
        result = components.publish_document(session, owner, "policy", DocumentPublish(title="P", content=content))
        assert result.version.number == expected
