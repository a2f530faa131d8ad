"""Reading a product's feedback and KPI alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.catalog.products import get_product
from governance.feedback import repository as repo
from governance.feedback.models import Feedback, KpiAlert
from governance.kernel.pagination import Page

ALERTS_SHOWN = 50


def list_feedback(
    session: Session, slug: str, *, before: int, limit: int, release: int | None = None, with_comment: bool = False
) -> Page[Feedback]:
    product = get_product(session, slug)
    return repo.feedback_page(
        session, product.id, before=before, limit=limit, release_number=release, with_comment=with_comment
    )


def list_alerts(session: Session, slug: str) -> list[KpiAlert]:
    """The product's KPI alerts, newest first."""
    return repo.alerts_of_product(session, get_product(session, slug).id, ALERTS_SHOWN)
