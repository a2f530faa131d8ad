"""Every query of review: what the rules and views of releases read, for one release or many at once.

Review reads the tables of the packages below it (releases, runs, catalog, accounts); every function here takes
many ids, so a page listing many releases reads each kind of row once instead of once per release.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from governance.accounts.models import User
from governance.audit.models import AuditEvent
from governance.catalog.models import Component, ComponentKind, ComponentVersion, Product
from governance.releases.models import Decision, Policy, Release, ReleaseState, SignOff
from governance.runs.models import CaseResultRow, Run, RunChunk, RunPurpose


def _ids(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)


# Built once, with the ids bound at each call: a release view runs most of these, and building and keying a
# statement costs more than running it.
_later = aliased(Release)
_PRODUCTS_BY_ID = select(Product).where(Product.id.in_(_ids("ids")))
_POLICIES_BY_TIER = select(Policy).where(Policy.risk_tier.in_(_ids("tiers")))
_LIVE_RELEASES = select(Release).where(Release.product_id.in_(_ids("ids")), Release.state == ReleaseState.live.value)
# Re-certification runs are never a release's evidence.
_RUNS_OF = select(Run).where(Run.release_id.in_(_ids("ids")), Run.purpose == RunPurpose.release.value).order_by(Run.id)
_SIGNOFFS_OF = select(SignOff).where(SignOff.release_id.in_(_ids("ids"))).order_by(SignOff.id)
_DECISIONS_OF = select(Decision).where(Decision.release_id.in_(_ids("ids"))).order_by(Decision.id)
_NEXT_RELEASE_NUMBERS = (
    select(Release.id, func.min(_later.number))
    .join(_later, and_(_later.product_id == Release.product_id, _later.number > Release.number))
    .where(Release.id.in_(_ids("ids")))
    .group_by(Release.id)
)
_OWNER_CHANGES = (
    select(AuditEvent)
    .where(AuditEvent.action == "product.updated", AuditEvent.product_slug.in_(_ids("slugs")))
    .order_by(AuditEvent.seq)
)
_RECORDED_COUNTS = (
    select(CaseResultRow.run_id, func.count())
    .where(CaseResultRow.run_id.in_(_ids("ids")))
    .group_by(CaseResultRow.run_id)
)


class VersionKey(NamedTuple):
    """One component version as a manifest names it; ``product_id`` is None for shared components."""

    product_id: int | None
    kind: str
    name: str
    number: int


def releases_by_id(session: Session, release_ids: Collection[int]) -> dict[int, Release]:
    if not release_ids:
        return {}
    return {r.id: r for r in session.scalars(select(Release).where(Release.id.in_(release_ids)))}


def products_by_id(session: Session, product_ids: Collection[int]) -> dict[int, Product]:
    if not product_ids:
        return {}
    return {p.id: p for p in session.scalars(_PRODUCTS_BY_ID, {"ids": list(product_ids)})}


def policies_by_tier(session: Session, tiers: Collection[str]) -> dict[str, Policy]:
    if not tiers:
        return {}
    return {p.risk_tier: p for p in session.scalars(_POLICIES_BY_TIER, {"tiers": list(tiers)})}


def live_releases(session: Session, product_ids: Collection[int]) -> dict[int, Release]:
    """The live release of each product that has one."""
    if not product_ids:
        return {}
    return {r.product_id: r for r in session.scalars(_LIVE_RELEASES, {"ids": list(product_ids)})}


def current_runs_of(session: Session, release_ids: Collection[int]) -> dict[int, list[Run]]:
    """The newest run of each suite of each release: re-runs replace earlier ones as evidence."""
    latest: dict[int, dict[str, Run]] = {release_id: {} for release_id in release_ids}
    if release_ids:
        for run in session.scalars(_RUNS_OF, {"ids": list(release_ids)}):
            latest[run.release_id][run.suite_name] = run
    return {release_id: list(runs.values()) for release_id, runs in latest.items()}


def signoffs_of(session: Session, release_ids: Collection[int]) -> dict[int, list[SignOff]]:
    """Every sign-off of each release, oldest first, whichever cycle and manifest it was given on."""
    found: dict[int, list[SignOff]] = {release_id: [] for release_id in release_ids}
    if release_ids:
        for row in session.scalars(_SIGNOFFS_OF, {"ids": list(release_ids)}):
            found[row.release_id].append(row)
    return found


def decisions_of(session: Session, release_ids: Collection[int]) -> dict[int, list[Decision]]:
    """Every reviewer's decision on each release, oldest first, whichever cycle and manifest it was given on."""
    found: dict[int, list[Decision]] = {release_id: [] for release_id in release_ids}
    if release_ids:
        for row in session.scalars(_DECISIONS_OF, {"ids": list(release_ids)}):
            found[row.release_id].append(row)
    return found


def next_release_numbers(session: Session, release_ids: Collection[int]) -> dict[int, int]:
    """The number of the release cut after each of these (of the same product), where there is one."""
    if not release_ids:
        return {}
    rows = session.execute(_NEXT_RELEASE_NUMBERS, {"ids": list(release_ids)})
    return {release_id: number for release_id, number in rows}


def version_authors(session: Session, keys: Iterable[VersionKey]) -> dict[VersionKey, str]:
    """The name of the user who wrote each of these component versions."""
    wanted = set(keys)
    if not wanted:
        return {}
    owners = {key.product_id for key in wanted if key.product_id is not None}
    # One query for all: a superset by kind, name and number, narrowed to the exact versions below.
    query = (
        select(Component.product_id, Component.kind, Component.name, ComponentVersion.number, User.name)
        .join(Component, Component.id == ComponentVersion.component_id)
        .join(User, User.id == ComponentVersion.author_id)
        .where(
            Component.kind.in_({key.kind for key in wanted}),
            Component.name.in_({key.name for key in wanted}),
            ComponentVersion.number.in_({key.number for key in wanted}),
            or_(Component.product_id.is_(None), Component.product_id.in_(owners)),
        )
    )
    found: dict[VersionKey, str] = {}
    for product_id, kind, name, number, author in session.execute(query):
        owned = ComponentKind(kind).owned_by_product
        key = VersionKey(product_id if owned else None, kind, name, number)
        if key in wanted and (product_id is None) != owned:
            found[key] = author
    return found


def owner_changes(session: Session, product_slugs: Collection[str]) -> dict[str, list[tuple[datetime, set[str]]]]:
    """Every hand-over of each product, oldest first, from the audit trail: (when, {owner before, owner after})."""
    found: dict[str, list[tuple[datetime, set[str]]]] = {slug: [] for slug in product_slugs}
    if not product_slugs:
        return found
    for event in session.scalars(_OWNER_CHANGES, {"slugs": list(product_slugs)}):
        before, after = event.before or {}, event.after or {}
        owners = {str(o) for o in (before.get("owner"), after.get("owner")) if o}
        if owners and event.product_slug is not None:
            found[event.product_slug].append((event.occurred_at, owners))
    return found


def open_releases_in(session: Session, product_id: int, states: Collection[ReleaseState]) -> list[Release]:
    """The product's releases in these states, locked, oldest first."""
    query = (
        select(Release)
        .where(Release.product_id == product_id, Release.state.in_([s.value for s in states]))
        .order_by(Release.id)
        .with_for_update()
    )
    return list(session.scalars(query))


def recorded_counts(session: Session, run_ids: Collection[int]) -> dict[int, int]:
    """How many case executions each run has recorded so far."""
    if not run_ids:
        return {}
    return {run_id: count for run_id, count in session.execute(_RECORDED_COUNTS, {"ids": list(run_ids)})}


def get_run(session: Session, run_id: int) -> Run | None:
    return session.get(Run, run_id)


def chunks_of(session: Session, run_id: int) -> list[RunChunk]:
    """A run's chunks in order: a re-run repeats exactly the same split of cases."""
    return list(session.scalars(select(RunChunk).where(RunChunk.run_id == run_id).order_by(RunChunk.index)))


class VersionNote(NamedTuple):
    """Who wrote a component version, when, and the message they gave."""

    author: str
    message: str
    created_at: datetime


def version_notes(session: Session, keys: Iterable[VersionKey]) -> dict[VersionKey, VersionNote]:
    """The author, message and time of each of these component versions, in one query."""
    wanted = set(keys)
    if not wanted:
        return {}
    owners = {key.product_id for key in wanted if key.product_id is not None}
    query = (
        select(
            Component.product_id,
            Component.kind,
            Component.name,
            ComponentVersion.number,
            User.name,
            ComponentVersion.message,
            ComponentVersion.created_at,
        )
        .join(Component, Component.id == ComponentVersion.component_id)
        .join(User, User.id == ComponentVersion.author_id)
        .where(
            Component.kind.in_({key.kind for key in wanted}),
            Component.name.in_({key.name for key in wanted}),
            ComponentVersion.number.in_({key.number for key in wanted}),
            or_(Component.product_id.is_(None), Component.product_id.in_(owners)),
        )
    )
    found: dict[VersionKey, VersionNote] = {}
    for product_id, kind, name, number, author, message, created_at in session.execute(query):
        owned = ComponentKind(kind).owned_by_product
        key = VersionKey(product_id if owned else None, kind, name, number)
        if key in wanted and (product_id is None) != owned:
            found[key] = VersionNote(author, message or "", created_at)
    return found


def active_reviewers(session: Session) -> list[User]:
    """Every enabled user with the reviewer role, by name."""
    users = session.scalars(select(User).where(User.disabled_at.is_(None)).order_by(User.name))
    return [user for user in users if "reviewer" in (user.roles or [])]


def release_ids_by_number(session: Session, product_id: int, numbers: Collection[int]) -> dict[int, int]:
    """The ids of a product's releases with these numbers: number -> id."""
    if not numbers:
        return {}
    query = select(Release.number, Release.id).where(Release.product_id == product_id, Release.number.in_(numbers))
    return {number: release_id for number, release_id in session.execute(query)}


def replaced_release(session: Session, release: Release) -> Release | None:
    """The newest retired release of the product cut before ``release``: the one it replaced when it went live
    (releases go live in the order they are cut; a later cut supersedes an earlier one)."""
    query = (
        select(Release)
        .where(
            Release.product_id == release.product_id,
            Release.number < release.number,
            Release.state == ReleaseState.retired.value,
        )
        .order_by(Release.number.desc())
        .limit(1)
    )
    return session.scalars(query).first()
