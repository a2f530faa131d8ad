"""Every query of runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.runs.models import CaseResultRow


def case_results_page(session: Session, run_id: int, *, after_id: int, limit: int) -> list[CaseResultRow]:
    query = select(CaseResultRow).where(CaseResultRow.run_id == run_id, CaseResultRow.id > after_id)
    return list(session.scalars(query.order_by(CaseResultRow.id).limit(limit)))
