"""Events wired end to end: a new head, new links or a new model cut releases for exactly the products it shapes."""

from __future__ import annotations

import pytest

from governance.accounts.roles import Role
from governance.catalog import components, products
from governance.catalog.products import get_product
from governance.catalog.schemas import ModelSettings, ProductCreate, ProductUpdate, PromptPublish
from governance.kernel.errors import Conflict, Forbidden, Invalid
from tests.factories import make_product, make_user
from tests.governance.catalog.conftest import audit_actions, link, publish_document, publish_process, releases_of


def release_counts(session, slugs: list[str]) -> dict[str, int]:
    return {slug: len(releases_of(session, get_product(session, slug).id)) for slug in slugs}


def test_publishing_a_document_cuts_a_release_for_every_product_it_shapes_and_only_those(session, owner):
    publish_document(session, owner, "policy", "v1")
    publish_document(session, owner, "handbook", "v1")
    publish_process(session, owner, "goal-setting", ["policy"])
    slugs = [make_product(session, owner, slug) for slug in ("direct", "through-process", "other-doc", "unlinked")]
    link(session, owner, "direct", documents=["policy"])
    link(session, owner, "through-process", processes=["goal-setting"])
    link(session, owner, "other-doc", documents=["handbook"])
    before = release_counts(session, slugs)

    publish_document(session, owner, "policy", "v2")

    after = release_counts(session, slugs)
    assert {slug: after[slug] - before[slug] for slug in slugs} == {
        "direct": 1,
        "through-process": 1,
        "other-doc": 0,
        "unlinked": 0,
    }
    for slug in ("direct", "through-process"):
        newest = releases_of(session, get_product(session, slug).id)[-1]
        assert newest.cause == {
            "kind": "document",
            "name": "policy",
            "version": 2,
            "product": None,
            "author": owner.name,
        }
        assert newest.manifest["documents"]["policy"]["version"] == 2


def test_a_publish_that_makes_no_version_cuts_nothing(session, owner):
    publish_document(session, owner, "policy", "v1")
    slug = make_product(session, owner)
    link(session, owner, slug, documents=["policy"])
    before = release_counts(session, [slug])
    publish_document(session, owner, "policy", "v1")
    assert release_counts(session, [slug]) == before


def test_changing_links_cuts_a_release_and_setting_the_same_links_does_not(session, owner):
    publish_document(session, owner, "policy")
    slug = make_product(session, owner)
    changed = link(session, owner, slug, documents=["policy"])
    assert changed.changed and [d.name for d in changed.documents] == ["policy"]
    (release,) = releases_of(session, get_product(session, slug).id)
    assert release.cause["kind"] == "links"
    assert release.manifest["links"] == {"documents": ["policy"], "processes": []}
    unchanged = link(session, owner, slug, documents=["policy"])
    assert not unchanged.changed
    assert len(releases_of(session, get_product(session, slug).id)) == 1
    assert audit_actions(session).count("product.links_changed") == 1


def test_links_to_unknown_components_are_refused_per_slug(session, owner):
    publish_document(session, owner, "policy")
    slug = make_product(session, owner)
    with pytest.raises(Invalid) as refused:
        link(session, owner, slug, documents=["policy", "ghost"], processes=["nowhere"])
    assert [p.field for p in refused.value.problems] == ["documents[1]", "processes[0]"]
    assert releases_of(session, get_product(session, slug).id) == []


def test_only_the_owner_or_an_admin_changes_links(session, owner):
    publish_document(session, owner, "policy")
    slug = make_product(session, owner)
    ci, _ = make_user(session, Role.ci)
    with pytest.raises(Forbidden, match="changing a product's links is for the owner"):
        link(session, ci, slug, documents=["policy"])


def test_a_model_change_cuts_a_release_and_a_description_change_does_not(session, owner):
    slug = make_product(session, owner)
    product = get_product(session, slug)
    _, changed = products.update_product(session, owner, slug, ProductUpdate(description="clearer"))
    assert changed == ["description"]
    assert releases_of(session, product.id) == []
    model = ModelSettings(provider="offline", name="bigger", temperature=0.5, max_tokens=900)
    _, changed = products.update_product(session, owner, slug, ProductUpdate(model=model))
    assert changed == ["model"]
    (release,) = releases_of(session, product.id)
    assert release.cause["kind"] == "model"
    assert release.manifest["model"] == model.model_dump()
    _, changed = products.update_product(session, owner, slug, ProductUpdate(model=model))
    assert changed == []
    assert len(releases_of(session, product.id)) == 1


def test_a_prompt_publish_cuts_a_release_for_its_own_product_only(session, owner):
    mine, other = make_product(session, owner), make_product(session, owner)
    components.publish_prompt(session, owner, mine, "system", PromptPublish(template="hello"))
    assert release_counts(session, [mine, other]) == {mine: 1, other: 0}


def test_a_duplicate_product_slug_is_a_conflict(session, owner):
    slug = make_product(session, owner)
    data = ProductCreate(
        slug=slug, name="Again", risk_tier="limited", model=ModelSettings(provider="offline", name="m")
    )
    with pytest.raises(Conflict) as refused:
        products.create_product(session, owner, data)
    assert refused.value.problems[0].field == "slug"


def test_a_reviewer_cannot_register_a_product(session):
    reviewer, _ = make_user(session, Role.reviewer)
    data = ProductCreate(
        slug="mine", name="Mine", risk_tier="limited", model=ModelSettings(provider="offline", name="m")
    )
    with pytest.raises(Forbidden, match="registering a product requires the role admin or product_owner"):
        products.create_product(session, reviewer, data)
