"""The audit log as an auditor reads it: newest first, paged both ways, filtered from drop-downs, linked.

Filters name what the trail holds: the products, actors (by display name) and actions that occur in it, so
nobody has to guess an exact, case-sensitive id. Filtering by a product keeps the publishes of shared
documents and processes that caused its releases. Each entry links to the release, run or version it concerns,
and its before/after read as labelled fields.

Verifying the hash chain walks every event, so the log does not do it on each load: ``/audit/verify`` does it
when asked (the button on the page; the API's ``/api/v1/audit/verify`` and ``steward audit verify`` too).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from governance.accounts.models import User
from governance.accounts.repository import display_names
from governance.audit import repository as audit_repo
from governance.audit.reading import ChainVerification, browse_events, verify_chain
from governance.catalog.repository import product_names
from governance.kernel.errors import Invalid
from governance.kernel.pagination import decode_cursor, encode_cursor
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.repository import release_ids
from service.api.deps import DbSession
from service.web.pages.history import history_url
from service.web.routing import WebRoute, WebUser, release_page_path, render_page

if TYPE_CHECKING:
    from governance.audit.models import AuditEvent

router = APIRouter(route_class=WebRoute, include_in_schema=False)

AUDIT_PAGE = 50
COMPONENT_KINDS = ("prompt", "suite", "document", "process")
# "goal-coach#3" (a release) and "goal-coach#3/quality" (a run of its suite), as the events name them.
_RELEASE_SUBJECT = re.compile(r"^(?P<slug>[a-z0-9-]+)#(?P<number>\d+)(?:/.*)?$")


@dataclass(frozen=True)
class AuditFilters:
    product: str = ""
    actor: str = ""
    action: str = ""
    since: str = ""
    """As typed: a date (a date picker's value), or a date and time (UTC unless it names a zone)."""
    until: str = ""
    """The last day shown (inclusive), or a date and time the events must come before."""

    def query(self, **extra: str) -> str:
        """The filters (those set) and ``extra`` as a query string."""
        values = {"product": self.product, "actor": self.actor, "action": self.action}
        values.update(since=self.since, until=self.until, **extra)
        return urlencode({name: value for name, value in values.items() if value})

    @property
    def any(self) -> bool:
        return any((self.product, self.actor, self.action, self.since, self.until))


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class EntryLink:
    href: str
    label: str


@dataclass(frozen=True)
class AuditEntry:
    event: AuditEvent
    actor: str
    """The actor's display name ("system" and removed users keep their id)."""
    link: EntryLink | None
    fields: list[FieldChange]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    """Newest first."""
    filters: AuditFilters
    products: list[Option]
    actors: list[Option]
    actions: list[str]
    newer: str | None
    """Link to the page of newer events; None on the newest page."""
    older: str | None
    """Link to the page of older events; None on the oldest page."""
    errors: dict[str, str] = field(default_factory=dict)
    """A refused filter's reason by its field: shown beside it, the other filters kept."""


def _moment(value: str, field: str, *, end_of_day: bool) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("give a date like 2025-01-31 or 2025-01-31T09:00", field=field) from exc
    if end_of_day and len(value) == len("2025-01-31"):
        # A date picker's "until" day is included: its events come before midnight of the next day.
        moment = datetime.combine(moment.date() + timedelta(days=1), time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _resolve(typed: str, options: list[Option]) -> str:
    """The option a typed value names: its id exactly, else its id or label in any case ("Paula" finds paula)."""
    if not typed or any(option.value == typed for option in options):
        return typed
    folded = typed.casefold()
    for option in options:
        if folded in (option.value.casefold(), option.label.casefold()):
            return option.value
    return typed


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Each field of an event's before and after, in the order the event wrote them, as labelled text."""
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [FieldChange(name, _text(before.get(name)), _text(after.get(name))) for name in names]


def _numbered_release(event: AuditEvent) -> tuple[str, int] | None:
    if event.subject_type not in ("release", "run"):
        return None
    match = _RELEASE_SUBJECT.match(event.subject)
    return (match["slug"], int(match["number"])) if match else None


def entry_link(event: AuditEvent, releases: dict[tuple[str, int], int]) -> EntryLink | None:
    """The page of the release, run or version an event concerns, if it has one."""
    after = event.after or {}
    if event.subject_type in COMPONENT_KINDS:
        product, _, name = event.subject.rpartition("/")
        href = history_url(event.subject_type, name, product or event.product_slug)
        version = after.get("version")
        if isinstance(version, int):
            return EntryLink(f"{href}#v{version}", f"{event.subject_type} {name} v{version}")
        return EntryLink(href, f"{event.subject_type} {name}")
    numbered = _numbered_release(event)
    if numbered is not None:
        release_id = after.get("release_id") if event.subject_type == "release" else None
        release_id = release_id if isinstance(release_id, int) else releases.get(numbered)
        if release_id is None:
            return None
        slug, number = numbered
        page = release_page_path(slug, number)
        if event.subject_type == "run" and isinstance(after.get("run_id"), int):
            return EntryLink(f"{page}#run-{after['run_id']}", f"run of {event.subject}")
        return EntryLink(page, f"{slug} release {number}")
    if event.subject_type == "product" and event.product_slug:
        return EntryLink(f"/products/{event.product_slug}", f"product {event.product_slug}")
    return None


def present_audit(session: UnitOfWork, user: User, filters: AuditFilters, newer: str, older: str) -> AuditPage:
    actor_ids = audit_repo.distinct_actors(session)
    names = display_names(session, actor_ids)
    actors = sorted((Option(a, names.get(a, a)) for a in actor_ids), key=lambda o: (o.label.casefold(), o.value))
    slugs = audit_repo.distinct_products(session)
    titles = product_names(session, slugs)
    products = [Option(slug, titles.get(slug, slug)) for slug in slugs]
    actions = audit_repo.distinct_actions(session)
    filters = AuditFilters(
        product=_resolve(filters.product, products),
        actor=_resolve(filters.actor, actors),
        action=filters.action,
        since=filters.since,
        until=filters.until,
    )
    where = audit_repo.EventFilter(
        product=filters.product or None,
        actor=filters.actor or None,
        action=filters.action or None,
        since=_moment(filters.since, "since", end_of_day=False),
        before=_moment(filters.until, "until", end_of_day=True),
    )
    window = browse_events(
        session,
        user,
        where,
        newer_than=decode_cursor(newer) if newer else None,
        older_than=decode_cursor(older) if older else None,
        limit=AUDIT_PAGE,
    )
    numbered = {pair for event in window.items if (pair := _numbered_release(event)) is not None}
    releases = release_ids(session, numbered)
    entries = [
        AuditEntry(
            event=event,
            actor=names.get(event.actor, event.actor),
            link=entry_link(event, releases),
            fields=field_changes(event.before, event.after),
        )
        for event in window.items
    ]
    return AuditPage(
        entries=entries,
        filters=filters,
        products=products,
        actors=actors,
        actions=actions,
        newer=None if window.newer_than is None else "/audit?" + filters.query(newer=encode_cursor(window.newer_than)),
        older=None if window.older_than is None else "/audit?" + filters.query(older=encode_cursor(window.older_than)),
    )


@router.get("/audit")
def audit_page(
    request: Request,
    session: DbSession,
    user: WebUser,
    product: str = "",
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    newer: str = "",
    older: str = "",
) -> HTMLResponse:
    """The audit log, newest first, filtered; the chain is verified on request (``/audit/verify``)."""
    filters = AuditFilters(product=product, actor=actor, action=action, since=since, until=until)
    try:
        return render_page(request, "audit.html", present_audit(session, user, filters, newer, older))
    except Invalid as refused:
        where = refused.problems[0].field if refused.problems else None
        if where not in ("since", "until"):
            raise
        # The page again with every filter as typed and the reason beside the date that was refused; the events
        # shown are those the other filters select.
        usable = replace(filters, **{where: ""})
        page = replace(
            present_audit(session, user, usable, newer, older), filters=filters, errors={where: refused.detail}
        )
        return render_page(request, "audit.html", page, status_code=422)


@dataclass(frozen=True)
class VerifyPage:
    chain: ChainVerification


@router.get("/audit/verify")
def verify_page(request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    """Walk the whole hash chain now and show what it found."""
    return render_page(request, "audit_verify.html", VerifyPage(chain=verify_chain(session)))
