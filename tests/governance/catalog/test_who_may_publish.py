"""Who may publish: owners and admins everything of theirs, ci prompts and suites only, nobody another's document."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.kernel.errors import Forbidden, Invalid
from tests.factories import make_product, make_user, suite_spec
from tests.governance.catalog.conftest import audit_actions, publish_document, publish_process


def test_ci_may_publish_prompts_and_suites_of_any_product(session, owner):
    ci, _ = make_user(session, Role.ci)
    slug = make_product(session, owner)
    prompt = components.publish_prompt(session, ci, slug, "system", PromptPublish(template="from CI"))
    suite = components.publish_suite(session, ci, slug, "quality", SuitePublish(spec=suite_spec("quality")))
    assert prompt.created and suite.created
    assert prompt.version.author is ci


@pytest.mark.parametrize("kind", ["document", "process"])
def test_ci_may_not_publish_documents_or_processes(session, owner, kind):
    ci, _ = make_user(session, Role.ci)
    with pytest.raises(Forbidden) as refused:
        if kind == "document":
            publish_document(session, ci, "policy")
        else:
            publish_process(session, ci, "onboarding", [])
    assert refused.value.status == 403
    assert f"publishing a {kind} requires the role admin or product_owner" in refused.value.detail


@pytest.mark.parametrize("roles", [[Role.reviewer], [Role.product_owner]])
def test_only_the_owner_an_admin_or_ci_publish_a_products_prompts(session, owner, roles):
    stranger, _ = make_user(session, *roles)
    slug = make_product(session, owner)
    with pytest.raises(Forbidden) as refused:
        components.publish_prompt(session, stranger, slug, "system", PromptPublish(template="mine now"))
    assert f"is for the owner of '{slug}' ({owner.name}), an admin or a ci user" in refused.value.detail
    admin, _ = make_user(session, Role.admin)
    assert components.publish_prompt(session, admin, slug, "system", PromptPublish(template="admin")).created


def test_a_non_owner_cannot_publish_another_owners_document(session, owner):
    publish_document(session, owner, "policy", "v1")
    other, _ = make_user(session, Role.product_owner)
    with pytest.raises(Forbidden) as refused:
        publish_document(session, other, "policy", "v2 by someone else")
    assert f"is for the owner of document 'policy' ({owner.name}) or an admin" in refused.value.detail
    admin, _ = make_user(session, Role.admin)
    assert publish_document(session, admin, "policy", "v2 by an admin").version.number == 2
    assert audit_actions(session).count("document.published") == 2


def test_only_an_admin_creates_a_document_for_someone_else(session, owner):
    other, _ = make_user(session, Role.product_owner)
    with pytest.raises(Invalid) as refused:
        publish_document(session, owner, "policy", owner=other.name)
    assert refused.value.problems[0].field == "owner"
    admin, _ = make_user(session, Role.admin)
    result = publish_document(session, admin, "policy", owner=other.name)
    assert result.component.owner is other
    assert publish_document(session, other, "policy", "v2").created


def test_handing_a_document_over_moves_the_right_to_publish_it(session, owner):
    publish_document(session, owner, "policy", "v1")
    successor, _ = make_user(session, Role.product_owner)
    handed = publish_document(session, owner, "policy", "v1", owner=successor.name)
    assert not handed.created  # same content: no version, but a new owner
    assert handed.component.owner is successor
    assert "document.owner_changed" in audit_actions(session)
    with pytest.raises(Forbidden):
        publish_document(session, owner, "policy", "v2")
    assert publish_document(session, successor, "policy", "v2").created
