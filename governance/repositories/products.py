"""Queries over products."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.models import Product, User


def get_by_slug(session: Session, slug: str, *, for_update: bool = False) -> Product | None:
    query = select(Product).where(Product.slug == slug)
    if for_update:
        query = query.with_for_update(of=Product)
    return session.scalar(query)


def list_page(
    session: Session, *, after_id: int, limit: int, owner: str | None = None, risk_tier: str | None = None
) -> list[Product]:
    query = select(Product).where(Product.id > after_id)
    if owner is not None:
        query = query.join(User, Product.owner_id == User.id).where(User.name == owner)
    if risk_tier is not None:
        query = query.where(Product.risk_tier == risk_tier)
    return list(session.scalars(query.order_by(Product.id).limit(limit)))
