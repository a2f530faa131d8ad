"""The audit trail, filtered by product, actor and time, with the hash chain's verification status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from governance.accounts.models import User
from governance.audit.reading import ChainVerification, list_events, verify_chain
from governance.kernel.errors import Invalid
from governance.kernel.pagination import decode_cursor
from governance.kernel.unit_of_work import UnitOfWork
from service.api.deps import DbSession
from service.web.routing import WebRoute, WebUser, render_page

if TYPE_CHECKING:
    from governance.audit.models import AuditEvent

router = APIRouter(route_class=WebRoute, include_in_schema=False)

AUDIT_PAGE = 50


@dataclass(frozen=True)
class AuditFilters:
    product: str = ""
    actor: str = ""
    since: str = ""
    """As typed: a date, or a date and time (UTC unless it names a zone)."""


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next: str | None
    """Cursor of the next page of events."""
    filters: AuditFilters
    chain: ChainVerification


def _since(value: str) -> datetime | None:
    if not value:
        return None
    try:
        since = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("give a date like 2025-01-31 or 2025-01-31T09:00", field="since") from exc
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def present_audit(session: UnitOfWork, user: User, filters: AuditFilters, cursor: str) -> AuditPage:
    page = list_events(
        session,
        user,
        after=decode_cursor(cursor),
        limit=AUDIT_PAGE,
        product=filters.product or None,
        by=filters.actor or None,
        since=_since(filters.since),
    )
    return AuditPage(events=page.items, next=page.next, filters=filters, chain=verify_chain(session))


@router.get("/audit")
def audit_page(
    request: Request,
    session: DbSession,
    user: WebUser,
    product: str = "",
    actor: str = "",
    since: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """The audit trail, filtered, with the hash chain's verification status."""
    filters = AuditFilters(product=product, actor=actor, since=since)
    return render_page(request, "audit.html", present_audit(session, user, filters, cursor))
