"""Reading runs: one run by id, and its case results page by page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.kernel.pagination import Page
from governance.runs import repository as runs_repo
from governance.runs.models import CaseResultRow, Run


def get_run(session: Session, run_id: int) -> Run:
    """A run, or ``NotFound`` naming the id."""
    return runs_repo.get_run(session, run_id)


def list_case_results(session: Session, run: Run, *, after: int, limit: int) -> Page[CaseResultRow]:
    """A run's case results in the order they were recorded, one page at a time."""
    return runs_repo.case_results(session, run.id, after=after, limit=limit)
