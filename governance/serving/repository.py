"""Every query of serving: the live release a running product fetches, its contents, and suspensions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlalchemy.orm import Session

from governance.catalog.models import Component, ComponentVersion, Product
from governance.releases.models import Decision, Release, ReleaseState, SignOff
from governance.serving.models import Suspension


class Stop(NamedTuple):
    """The suspension in force, as values: a pointer may outlive the session it was read in."""

    reason: str
    suspended_by: str
    suspended_at: datetime


class LivePointer(NamedTuple):
    """What a conditional fetch needs, read in one query: the product, its live release, whether it is stopped."""

    product_id: int
    release_id: int | None
    release_number: int | None
    manifest_hash: str | None
    suspension: Stop | None


def live_pointer(session: Session, slug: str) -> LivePointer | None:
    """The product named ``slug`` with its live release's number and hash and its suspension in force, if any."""
    query = (
        select(
            Product.id,
            Release.id,
            Release.number,
            Release.manifest_hash,
            Suspension.reason,
            Suspension.suspended_by,
            Suspension.suspended_at,
        )
        .outerjoin(Release, and_(Release.product_id == Product.id, Release.state == ReleaseState.live.value))
        .outerjoin(Suspension, and_(Suspension.product_id == Product.id, Suspension.lifted_at.is_(None)))
        .where(Product.slug == slug)
    )
    row = session.execute(query).first()
    if row is None:
        return None
    product_id, release_id, number, manifest_hash, reason, suspended_by, suspended_at = row
    stop = Stop(reason, suspended_by, suspended_at) if suspended_by is not None else None
    return LivePointer(product_id, release_id, number, manifest_hash, stop)


VersionKey = tuple[int | None, str, str, int]
"""(product id or None for shared components, kind, name, version number)."""


def contents_of(session: Session, keys: Collection[VersionKey]) -> dict[VersionKey, ComponentVersion]:
    """The versions a manifest names, in one query."""
    if not keys:
        return {}
    owned = [(p, k, n, v) for p, k, n, v in keys if p is not None]
    shared = [(k, n, v) for p, k, n, v in keys if p is None]
    conditions: list[ColumnElement[bool]] = []
    if owned:
        conditions.append(
            tuple_(Component.product_id, Component.kind, Component.name, ComponentVersion.number).in_(owned)
        )
    if shared:
        conditions.append(
            and_(
                Component.product_id.is_(None),
                tuple_(Component.kind, Component.name, ComponentVersion.number).in_(shared),
            )
        )
    query = (
        select(Component.product_id, Component.kind, Component.name, ComponentVersion)
        .join(ComponentVersion, ComponentVersion.component_id == Component.id)
        .where(or_(*conditions))
    )
    return {(p, str(k), n, v.number): v for p, k, n, v in session.execute(query)}


def current_approvers(session: Session, release: Release) -> list[str]:
    """The reviewers whose approvals count for the release: given in its current cycle, on its manifest."""
    query = select(Decision.reviewer).where(
        Decision.release_id == release.id,
        Decision.cycle == release.cycle,
        Decision.manifest_hash == release.manifest_hash,
        Decision.decision == "approved",
    )
    return sorted(session.scalars(query))


def current_signer(session: Session, release: Release) -> str | None:
    query = (
        select(SignOff.actor)
        .where(
            SignOff.release_id == release.id,
            SignOff.cycle == release.cycle,
            SignOff.manifest_hash == release.manifest_hash,
        )
        .order_by(SignOff.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def active_suspension(session: Session, product_id: int) -> Suspension | None:
    query = select(Suspension).where(Suspension.product_id == product_id, Suspension.lifted_at.is_(None))
    return session.scalars(query).first()


def active_suspensions(session: Session, product_ids: Collection[int]) -> list[Suspension]:
    """The suspensions in force among these products."""
    if not product_ids:
        return []
    query = select(Suspension).where(Suspension.product_id.in_(product_ids), Suspension.lifted_at.is_(None))
    return list(session.scalars(query))


def suspensions_of(session: Session, product_id: int, *, limit: int = 20) -> list[Suspension]:
    """The product's suspensions, newest first."""
    query = select(Suspension).where(Suspension.product_id == product_id).order_by(Suspension.id.desc()).limit(limit)
    return list(session.scalars(query))
