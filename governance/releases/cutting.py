"""Releases: cut on every change of what a product is made of, superseding what came before.

A new head of a prompt or suite, a new version of a linked document or process, a change of links
or of the product's model cuts a release for every affected product in the same transaction as the
change, queues its runs, and makes the older open releases ``superseded`` so their sign-offs and
approvals stop counting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import appending, begin_write, record_event
from governance.catalog import repository as products_repo
from governance.catalog.events import ComponentPublished, ProductChanged
from governance.catalog.impact import impacted_products
from governance.catalog.models import Component, ComponentVersion, Lifecycle, Product
from governance.catalog.permissions import require_product_manager
from governance.kernel.db import utcnow
from governance.kernel.errors import NotFound
from governance.kernel.events import publish, subscribe
from governance.kernel.repository import allocate_ids
from governance.kernel.unit_of_work import unit_of
from governance.releases import repository as releases_repo
from governance.releases.events import ReleasesClosed, ReleasesCut
from governance.releases.manifests import build_manifests, manifest_hash
from governance.releases.models import Policy, Release, ReleaseState
from governance.releases.policies import list_policies
from governance.releases.reading import get_release as get_release  # governance/review and service/web import it here
from governance.releases.workflow import transition


def cause_of_version(component: Component, version: ComponentVersion, product_slug: str | None) -> dict[str, Any]:
    return {
        "kind": component.kind,
        "name": component.name,
        "version": version.number,
        "product": product_slug,
        "author": version.author.name,
    }


@subscribe(ComponentPublished)
def on_component_published(session: Session, event: ComponentPublished) -> None:
    """A component has a new head: cut releases for the products it shapes."""
    component, product = event.component, event.product
    if product is not None:
        affected = [product]
    else:
        ids = [item.product_id for item in impacted_products(session, component)]
        affected = products_repo.products_by_ids(session, ids)
    cause = cause_of_version(component, event.version, product.slug if product else None)
    cut_releases(session, event.actor, affected, cause)


@subscribe(ProductChanged)
def on_product_changed(session: Session, event: ProductChanged) -> None:
    """The product's links or model settings changed."""
    cut_releases(session, event.actor, [event.product], event.cause)


def _supersede(session: Session, release: Release, *, actor: User | str, product_slug: str) -> None:
    # No flush per release: a publish supersedes up to one open release per affected product, and flushing
    # each one separately made a 1,000-product publish pay 1,000 round trips; the batch flushes them together.
    transition(
        session,
        release,
        ReleaseState.superseded,
        actor=actor,
        action="release.superseded",
        product_slug=product_slug,
        reason="a newer change superseded this release's manifest",
        flush=False,
    )


def cut_releases(
    session: Session,
    actor: User | str,
    products: list[Product],
    cause: dict[str, Any],
    *,
    force: bool = False,
    chunk_size: int | None = None,
) -> list[Release]:
    """Cut a release for each product whose manifest changed (or every product when ``force``).

    Works on all products at once with a fixed number of queries and flushes, so a publish that affects
    1,000 products costs in proportion to them and not to the catalogue: plan every product first, insert the
    new releases in one batch, then write the audit events in the same order as one product at a time would
    (its superseded releases, its cut, its failure if it cannot be tested) and queue all runs together.
    """
    products = [p for p in products if p.lifecycle != Lifecycle.retired.value]
    if not products:
        return []
    # The edge that opened the unit of work set the configured chunk size on it (STEWARD_CHUNK_SIZE).
    chunk_size = chunk_size or unit_of(session).chunk_size
    begin_write(session)
    ids = [p.id for p in products]
    # Publishes that touch overlapping products take their row locks in id order: no deadlocks, no lost releases.
    products_repo.lock_products(session, ids)
    manifests = build_manifests(session, products)
    policies = {p.risk_tier: p for p in list_policies(session)}
    current: dict[int, list[Release]] = {}
    for held in releases_repo.lock_current_releases(session, ids):
        current.setdefault(held.product_id, []).append(held)
    numbers = releases_repo.newest_numbers(session, ids)
    now = utcnow()
    creator = actor.name if isinstance(actor, User) else actor
    plans: list[tuple[Product, list[Release], Release | None]] = []
    for product in products:
        manifest = manifests[product.id]
        digest = manifest_hash(manifest)
        releases = current.get(product.id, [])
        live = next((r for r in releases if r.state == ReleaseState.live.value), None)
        open_releases = [r for r in releases if r.state != ReleaseState.live.value]
        if not force:
            if open_releases and open_releases[-1].manifest_hash == digest:
                continue  # a release of exactly this manifest is already on its way
            if live is not None and live.manifest_hash == digest and not open_releases:
                continue
        if live is not None and live.manifest_hash == digest and not force:
            plans.append((product, open_releases, None))  # the change returned the product to exactly what is live
            continue
        policy = policies[product.risk_tier]
        due = now + timedelta(days=policy.revalidation_days)
        # Repeated changes do not push the deadline out: the earliest open due date stands.
        earlier = [r.revalidation_due_at for r in open_releases if r.revalidation_due_at is not None]
        if earlier and live is not None:
            due = min([due, *earlier])
        planned = Release(
            product_id=product.id,
            number=(numbers.get(product.id) or 0) + 1,
            state=ReleaseState.testing.value,
            manifest=manifest,
            manifest_hash=digest,
            cause=cause,
            created_by=creator,
            revalidation_due_at=due if live is not None else None,
        )
        plans.append((product, open_releases, planned))
    cut = [release for _, _, release in plans if release is not None]
    release_ids = allocate_ids(session, Release.__tablename__, len(cut))
    if release_ids is not None:  # known ids: a plain executemany instead of INSERT ... RETURNING (see allocate_ids)
        for new_release, release_id in zip(cut, release_ids, strict=True):
            new_release.id = release_id
    session.add_all(cut)
    session.flush()  # one batched insert; the audit events and runs below need the new ids
    testable: list[tuple[Release, Product]] = []
    superseded: list[int] = []
    with appending(session):
        for product, open_releases, release in plans:
            for older in open_releases:
                _supersede(session, older, actor=actor, product_slug=product.slug)
                superseded.append(older.id)
            if release is None:
                continue
            record_event(
                session,
                actor=actor,
                action="release.cut",
                subject_type="release",
                subject=f"{product.slug}#{release.number}",
                product_slug=product.slug,
                before=None,
                after={
                    "state": release.state,
                    "release_id": release.id,
                    "manifest_hash": release.manifest_hash,
                    "cause": cause,
                },
            )
            problem = untestable(release, policies[product.risk_tier])
            if problem:
                fail_release(session, release, product, problem)
            else:
                testable.append((release, product))
        publish(session, ReleasesCut(actor=actor, testable=testable, chunk_size=chunk_size))
    publish(session, ReleasesClosed(superseded))
    return cut


def cut_release_by_hand(session: Session, actor: User, slug: str, reason: str) -> Release:
    """Cut a release of the current manifest even if nothing changed (e.g. the provider's model moved)."""
    product = products_repo.get_by_slug(session, slug)
    if product is None:
        raise NotFound(f"no product with slug '{slug}'", field="slug")
    require_product_manager(actor, product, action="cutting a release")
    released = cut_releases(
        session, actor, [product], {"kind": "manual", "reason": reason, "author": actor.name}, force=True
    )
    if not released:
        raise NotFound(f"product '{slug}' is retired; it gets no releases", field="slug")
    return released[0]


def untestable(release: Release, policy: Policy) -> str | None:
    """Why the release cannot be tested at all (it then fails at once), or None."""
    suites = release.manifest["suites"]
    missing = [name for name in policy.required_suites if name not in suites]
    if not suites:
        return "the product has no eval suites: publish one, or sign off with a written waiver"
    if missing:
        return f"the {policy.risk_tier} policy requires suites this product lacks: {', '.join(missing)}"
    return None


def fail_release(session: Session, release: Release, product: Product, problem: str) -> None:
    """A testing release that cannot pass: failed, with the reason the owner and reviewers will read."""
    release.error = problem
    transition(
        session,
        release,
        ReleaseState.failed,
        actor="system",
        action="release.failed",
        product_slug=product.slug,
        reason=problem,
    )
