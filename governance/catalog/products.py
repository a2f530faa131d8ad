"""Products: register, change and read an AI HR product."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.permissions import require_role
from governance.accounts.roles import Role
from governance.accounts.users import get_user
from governance.audit.trail import begin_write, record_event
from governance.catalog import repository as products_repo
from governance.catalog.events import ProductChanged, ProductDeclared, ProductOwnerChanged
from governance.catalog.models import Product
from governance.catalog.permissions import require_product_manager
from governance.catalog.schemas import ProductCreate, ProductUpdate
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Invalid, NotFound
from governance.kernel.events import publish
from governance.kernel.pagination import Page


def product_or_none(session: Session, slug: str) -> Product | None:
    """The product with this slug, or None; ``get_product`` raises ``NotFound`` instead."""
    return products_repo.get_by_slug(session, slug)


def get_product(session: Session, slug: str, *, for_update: bool = False) -> Product:
    product = products_repo.get_by_slug(session, slug, for_update=for_update)
    if product is None:
        raise NotFound(f"no product with slug '{slug}'", field="slug")
    return product


def _owner_for(session: Session, actor: User, name: str | None, field: str) -> User:
    if name is None or name == actor.name:
        owner = actor
    else:
        try:
            owner = get_user(session, name)
        except NotFound as exc:
            raise Invalid(f"no user named '{name}'", field=field) from exc
    if not (owner.has_role(Role.product_owner) or owner.has_role(Role.admin)):
        raise Invalid(f"'{owner.name}' cannot own a product: they are not a product_owner", field=field)
    return owner


def snapshot(product: Product) -> dict[str, Any]:
    return {
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "owner": product.owner.name,
        "intended_purpose": product.intended_purpose,
        "risk_tier": product.risk_tier,
        "model": product.model,
        "lifecycle": product.lifecycle,
        "declared_use": product.declared_use,
    }


# What the product is classified by (governance.compliance): a change to any of them re-classifies it.
CLASSIFIED_BY = ("declared_use", "intended_purpose", "risk_tier")


def create_product(session: Session, actor: User, data: ProductCreate) -> Product:
    require_role(actor, Role.admin, Role.product_owner, action="registering a product")
    if data.owner not in (None, actor.name) and not actor.has_role(Role.admin):
        raise Invalid("only an admin may register a product for another owner", field="owner")
    owner = _owner_for(session, actor, data.owner, "owner")
    if products_repo.get_by_slug(session, data.slug) is not None:
        raise Conflict(f"a product with slug '{data.slug}' already exists", field="slug")
    product = Product(
        slug=data.slug,
        name=data.name,
        description=data.description,
        owner_id=owner.id,
        owner=owner,
        intended_purpose=data.intended_purpose,
        risk_tier=data.risk_tier.value,
        model=data.model.model_dump(),
        lifecycle=data.lifecycle.value,
        declared_use=data.declared_use.model_dump(mode="json") if data.declared_use else None,
    )
    session.add(product)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent request registered the same slug first
        raise Conflict(f"a product with slug '{data.slug}' already exists", field="slug") from exc
    record_event(
        session,
        actor=actor,
        action="product.created",
        subject_type="product",
        subject=product.slug,
        product_slug=product.slug,
        after=snapshot(product),
    )
    publish(session, ProductDeclared(actor, product, None, None))
    return product


def update_product(session: Session, actor: User, slug: str, data: ProductUpdate) -> tuple[Product, list[str]]:
    """Apply the given fields; returns the product and the names of the fields that changed."""
    begin_write(session)
    product = get_product(session, slug, for_update=True)
    require_product_manager(actor, product, action="changing a product")
    before = snapshot(product)
    previous_owner = product.owner
    changes = data.model_dump(exclude_unset=True)
    justification = changes.pop("risk_tier_justification", None)
    if data.declared_use is not None:
        changes["declared_use"] = data.declared_use.model_dump(mode="json")
    if data.model is not None:
        # The model settings are replaced as a whole: fields the caller left out take their defaults, as at
        # registration, so equal settings always make equal manifests.
        changes["model"] = data.model.model_dump()
    if "owner" in changes:
        if changes["owner"] is None:
            raise Invalid("a product always has an owner", field="owner")
        owner = _owner_for(session, actor, changes.pop("owner"), "owner")
        product.owner_id, product.owner = owner.id, owner
    for field, value in changes.items():
        if value is None:
            raise Invalid("cannot be null", field=field)
        setattr(product, field, value.value if hasattr(value, "value") else value)
    after = snapshot(product)
    changed = [field for field in after if after[field] != before[field]]
    if changed:
        product.updated_at = utcnow()
        session.flush()
        record_event(
            session,
            actor=actor,
            action="product.updated",
            subject_type="product",
            subject=product.slug,
            product_slug=product.slug,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        if any(field in changed for field in CLASSIFIED_BY):
            publish(session, ProductDeclared(actor, product, {k: before[k] for k in CLASSIFIED_BY}, justification))
        if "owner" in changed:
            publish(session, ProductOwnerChanged(actor, product, previous_owner))
        if "model" in changed:
            publish(
                session,
                ProductChanged(
                    actor,
                    product,
                    {
                        "kind": "model",
                        "name": product.slug,
                        "author": actor.name,
                        "before": before["model"],
                        "after": after["model"],
                    },
                ),
            )
    return product, changed


def list_products(
    session: Session, *, after: int, limit: int, owner: str | None = None, risk_tier: str | None = None
) -> Page[Product]:
    return products_repo.products_page(session, after=after, limit=limit, owner=owner, risk_tier=risk_tier)
