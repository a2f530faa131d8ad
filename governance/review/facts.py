"""What the rules of a release read: its current sign-off and decisions, the live release, changed authors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.catalog.models import Component, ComponentVersion, Product
from governance.releases.manifests import manifest_changes
from governance.releases.models import Decision, Release, SignOff


def live_release(session: Session, product_id: int) -> Release | None:
    return session.scalar(select(Release).where(Release.product_id == product_id, Release.state == "live"))


def changed_authors(session: Session, release: Release, product: Product) -> dict[str, list[str]]:
    """Authors of the component versions this release changes against the live one: user -> components."""
    live = live_release(session, product.id)
    changes = manifest_changes(live.manifest if live else None, release.manifest)
    authors: dict[str, list[str]] = {}
    for change in changes:
        if change["kind"] not in ("prompt", "suite", "document", "process") or change["to_version"] is None:
            continue
        query = (
            select(ComponentVersion)
            .join(Component, Component.id == ComponentVersion.component_id)
            .where(
                Component.kind == change["kind"],
                Component.name == change["name"],
                ComponentVersion.number == change["to_version"],
            )
        )
        owned = change["kind"] in ("prompt", "suite")
        query = query.where(Component.product_id == product.id if owned else Component.product_id.is_(None))
        version = session.scalar(query)
        if version is not None:
            authors.setdefault(version.author.name, []).append(f"{change['kind']} {change['name']} v{version.number}")
    return authors


def current_signoff(session: Session, release: Release) -> SignOff | None:
    return session.scalar(
        select(SignOff)
        .where(
            SignOff.release_id == release.id,
            SignOff.cycle == release.cycle,
            SignOff.manifest_hash == release.manifest_hash,
        )
        .order_by(SignOff.id.desc())
        .limit(1)
    )


def current_decisions(session: Session, release: Release) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(
                Decision.release_id == release.id,
                Decision.cycle == release.cycle,
                Decision.manifest_hash == release.manifest_hash,
            )
            .order_by(Decision.id)
        )
    )
