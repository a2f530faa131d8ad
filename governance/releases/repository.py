"""Every query of releases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.releases.models import Release


def list_for_product(session: Session, product_id: int, *, before_number: int, limit: int) -> list[Release]:
    query = select(Release).where(Release.product_id == product_id)
    if before_number:
        query = query.where(Release.number < before_number)
    return list(session.scalars(query.order_by(Release.number.desc()).limit(limit)))
