"""Queries over releases and run evidence."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.release_tables import CaseResultRow, Release


def list_for_product(session: Session, product_id: int, *, before_number: int, limit: int) -> list[Release]:
    query = select(Release).where(Release.product_id == product_id)
    if before_number:
        query = query.where(Release.number < before_number)
    return list(session.scalars(query.order_by(Release.number.desc()).limit(limit)))


def case_results_page(session: Session, run_id: int, *, after_id: int, limit: int) -> list[CaseResultRow]:
    query = select(CaseResultRow).where(CaseResultRow.run_id == run_id, CaseResultRow.id > after_id)
    return list(session.scalars(query.order_by(CaseResultRow.id).limit(limit)))
