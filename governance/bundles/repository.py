"""Every query of bundles: reading and replacing last-applied records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.bundles.models import AppliedComponent


def applied_records(session: Session, product_id: int, component_ids: Sequence[int]) -> dict[int, AppliedComponent]:
    """The product's last-applied records of these components, keyed by component id."""
    if not component_ids:
        return {}
    rows = session.scalars(
        select(AppliedComponent).where(
            AppliedComponent.product_id == product_id, AppliedComponent.component_id.in_(component_ids)
        )
    )
    return {row.component_id: row for row in rows}


def add_records(session: Session, records: Sequence[AppliedComponent]) -> None:
    """Insert new records (a changed record is updated in place by its owner, the unit of work flushes it)."""
    session.add_all(records)
    session.flush()
