"""Changing a product: model settings are replaced whole, with the defaults a registration would give."""

from __future__ import annotations

from governance.accounts.roles import Role
from governance.catalog import products
from governance.catalog.schemas import ModelSettings, ProductUpdate
from governance.releases.status import product_view
from tests.factories import make_product, make_user


def test_new_model_settings_keep_the_defaults_the_caller_left_out(session):
    owner, _ = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    products.update_product(session, owner, slug, ProductUpdate(model=ModelSettings(provider="offline", name="bigger")))
    product = products.get_product(session, slug)
    assert product.model == {"provider": "offline", "name": "bigger", "temperature": 0.0, "max_tokens": 1024}
    assert product_view(session, product).model.name == "bigger"


def test_the_product_index_reads_columns_and_searches_name_slug_and_owner_in_any_case(session):
    from governance.catalog.repository import product_index

    olivia = make_user(session, Role.product_owner, name="olivia")[0]
    oscar = make_user(session, Role.product_owner, name="oscar_w")[0]
    coach = make_product(session, olivia, "goal-coach")
    screener = make_product(session, oscar, "cv-screener")
    everything = product_index(session)
    assert [(row.slug, row.owner_name, row.risk_tier) for row in everything] == [
        (coach, "olivia", "high"),
        (screener, "oscar_w", "high"),
    ]
    assert [row.slug for row in product_index(session, "GOAL")] == [coach]
    assert [row.slug for row in product_index(session, "OSCAR_")] == [screener]
    # LIKE's wildcards are matched as themselves: "_" alone matches only the owner whose name holds one.
    assert [row.slug for row in product_index(session, "_")] == [screener]
    assert product_index(session, "%") == []
