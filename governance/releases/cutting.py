"""Releases: cut on every change of what a product is made of, superseding what came before.

A new head of a prompt or suite, a new version of a linked document or process, a change of links
or of the product's model cuts a release for every affected product in the same transaction as the
change, queues its runs, and makes the older open releases ``superseded`` so their sign-offs and
approvals stop counting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
from governance.kernel.unit_of_work import DeferredCuts, unit_of
from governance.releases import repository as releases_repo
from governance.releases.events import ReleasesClosed, ReleasesCut
from governance.releases.manifests import build_manifests, manifest_hash
from governance.releases.models import Policy, Release, ReleaseState
from governance.releases.policies import list_policies
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
    if not _defer(session, affected, cause):
        cut_releases(session, event.actor, affected, cause)


@subscribe(ProductChanged)
def on_product_changed(session: Session, event: ProductChanged) -> None:
    """The product's links or model settings changed."""
    if not _defer(session, [event.product], event.cause):
        cut_releases(session, event.actor, [event.product], event.cause)


def _defer(session: Session, products: list[Product], cause: dict[str, Any]) -> bool:
    """Inside ``defer_cuts``, note the products and the cause for the one cut at the end; False outside it."""
    deferred = unit_of(session).deferred_cuts
    if deferred is None:
        return False
    deferred.products.update((product.id, product) for product in products)
    deferred.causes.append(cause)
    return True


def defer_cuts(session: Session) -> None:
    """From now on, changes in this unit of work note what they affect instead of cutting; see ``cut_deferred``.

    A bundle publishes many components, a product and its links: each would cut (and at once supersede) a
    release of every product it affects, and a new product's first release would be cut before its suites.
    """
    work = unit_of(session)
    if work.deferred_cuts is not None:
        raise RuntimeError("cuts are already deferred in this unit of work")
    work.deferred_cuts = DeferredCuts()


def cut_deferred(session: Session, actor: User | str, cause: dict[str, Any]) -> list[Release]:
    """Stop deferring and cut one release per product affected since ``defer_cuts``, with every change as cause."""
    work = unit_of(session)
    deferred, work.deferred_cuts = work.deferred_cuts, None
    if deferred is None or not deferred.products:
        return []
    products = sorted(deferred.products.values(), key=lambda product: product.id)
    return cut_releases(session, actor, products, {**cause, "changes": deferred.causes})


def stop_deferring(session: Session) -> None:
    """Forget what was deferred without cutting (the batch failed and is being undone)."""
    unit_of(session).deferred_cuts = None


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


@dataclass(frozen=True)
class _Plan:
    """What one product's cut does: supersede its open releases, and cut ``release`` unless it is None."""

    product: Product
    open_releases: list[Release]
    release: Release | None


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
    products = [p for p in products if p.lifecycle != Lifecycle.retired]
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
    due_since_live = releases_repo.earliest_due_since_live(session, ids)
    now, creator = utcnow(), actor if isinstance(actor, str) else actor.name
    plans = []
    for product in products:
        plan = _plan(
            product,
            manifests[product.id],
            current.get(product.id, []),
            policies[product.risk_tier],
            number=(numbers.get(product.id) or 0) + 1,
            earliest_due=due_since_live.get(product.id),
            cause=cause,
            creator=creator,
            now=now,
            force=force,
        )
        if plan is not None:
            plans.append(plan)
    cut = [plan.release for plan in plans if plan.release is not None]
    _insert(session, cut)
    _record(session, actor, plans, policies, cause, chunk_size)
    return cut


def _plan(
    product: Product,
    manifest: dict[str, Any],
    releases: list[Release],
    policy: Policy,
    *,
    number: int,
    earliest_due: datetime | None,
    cause: dict[str, Any],
    creator: str,
    now: datetime,
    force: bool,
) -> _Plan | None:
    """What a change does to one product, given its live and open releases; None when it does nothing."""
    digest = manifest_hash(manifest)
    live = next((r for r in releases if r.state == ReleaseState.live), None)
    open_releases = [r for r in releases if r.state != ReleaseState.live]
    if not force:
        if open_releases and open_releases[-1].manifest_hash == digest:
            return None  # a release of exactly this manifest is already on its way
        if live is not None and live.manifest_hash == digest:
            # The change returned the product to exactly what is live: only the open releases go.
            return _Plan(product, open_releases, None) if open_releases else None
    due = now + timedelta(days=policy.revalidation_days)
    # Repeated changes do not push the deadline out, nor does a rejection: the earliest due date set since the
    # live release went live stands.
    if earliest_due is not None and live is not None:
        due = min(due, earliest_due)
    release = Release(
        product_id=product.id,
        number=number,
        state=ReleaseState.testing,
        manifest=manifest,
        manifest_hash=digest,
        cause=cause,
        created_by=creator,
        revalidation_due_at=due if live is not None else None,
    )
    return _Plan(product, open_releases, release)


def _insert(session: Session, cut: list[Release]) -> None:
    """Insert the new releases in one batch; the audit events and runs that follow need their ids."""
    release_ids = allocate_ids(session, Release.__tablename__, len(cut))
    if release_ids is not None:  # known ids: a plain executemany instead of INSERT ... RETURNING (see allocate_ids)
        for new_release, release_id in zip(cut, release_ids, strict=True):
            new_release.id = release_id
    session.add_all(cut)
    session.flush()


def _record(
    session: Session,
    actor: User | str,
    plans: list[_Plan],
    policies: dict[str, Policy],
    cause: dict[str, Any],
    chunk_size: int,
) -> None:
    """Supersede, cut and fail in the order one product at a time would, then queue the runs and cancel work."""
    testable: list[tuple[Release, Product]] = []
    superseded: list[int] = []
    with appending(session):
        for plan in plans:
            for older in plan.open_releases:
                _supersede(session, older, actor=actor, product_slug=plan.product.slug)
                superseded.append(older.id)
            release = plan.release
            if release is None:
                continue
            record_event(
                session,
                actor=actor,
                action="release.cut",
                subject_type="release",
                subject=f"{plan.product.slug}#{release.number}",
                product_slug=plan.product.slug,
                before=None,
                after={
                    "state": release.state,
                    "release_id": release.id,
                    "manifest_hash": release.manifest_hash,
                    "cause": cause,
                },
            )
            problem = untestable(release, policies[plan.product.risk_tier])
            if problem:
                fail_release(session, release, plan.product, problem)
            else:
                testable.append((release, plan.product))
        publish(session, ReleasesCut(actor=actor, testable=testable, chunk_size=chunk_size))
    publish(session, ReleasesClosed(superseded))


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
