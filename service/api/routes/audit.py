from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from governance.audit import reading as audit
from governance.kernel.pagination import PageView
from service.api.deps import CurrentUser, DbSession, Paging

router = APIRouter(tags=["audit"])


class AuditEventView(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    subject_type: str
    subject: str
    product: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    prev_hash: str
    hash: str


class ChainView(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    problem: str | None
    head_hash: str | None
    checked_at: datetime | None


@router.get("/audit", summary="Audit events in chain order, filtered by product, actor, action or time.")
def list_events(
    session: DbSession,
    actor: CurrentUser,
    page: Paging,
    product: str | None = Query(None, description="Only events about this product slug."),
    by: str | None = Query(None, alias="actor", description="Only events by this user."),
    since: datetime | None = Query(None, description="Only events at or after this time (ISO 8601)."),
    until: datetime | None = Query(None, description="Only events before this time (ISO 8601)."),
    action: str | None = Query(None, max_length=64, description="Only events of this action, e.g. release.cut."),
) -> PageView[AuditEventView]:
    """Audit events in chain order, filtered by product, actor, action or time."""
    result = audit.list_events(
        session,
        actor,
        after=page.after,
        limit=page.limit,
        product=product,
        by=by,
        since=since,
        action=action,
        until=until,
    )
    return PageView(
        items=[AuditEventView(**{**e.__dict__, "product": e.product_slug}) for e in result.items],
        next=result.next,
    )


@router.get("/audit/verify", summary="Verify the audit hash chain end to end.")
def verify(session: DbSession, actor: CurrentUser) -> ChainView:
    """Verify the audit hash chain end to end."""
    result = audit.verify_chain(session)
    return ChainView(**result.__dict__)
