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
