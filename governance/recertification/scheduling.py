"""Starting re-certifications: the live release's suites run again, unchanged, when the policy says it is time.

A release is due ``recertify_days`` (its tier's policy) after it went live or after its last re-certification
started. The runs are queued like any others but marked as re-certification runs: they are compared with the
evidence the release went live on (see ``settling``) and never become evidence themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.events import Actor, actor_name
from governance.audit.trail import record_event
from governance.catalog.models import Product
from governance.catalog.permissions import require_product_manager
from governance.catalog.products import get_product
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict
from governance.kernel.unit_of_work import unit_of
from governance.recertification import repository as repo
from governance.recertification.models import Recertification, RecertificationState
from governance.releases.models import Policy, Release
from governance.runs.models import RunPurpose
from governance.runs.queueing import queue_runs_many

SCHEDULER = "scheduler"


def due_at(release: Release, policy: Policy, last: datetime | None) -> datetime | None:
    if policy.recertify_days is None:
        return None
    return max(release.state_changed_at, last or release.state_changed_at) + timedelta(days=policy.recertify_days)


def due_releases(session: Session, now: datetime) -> list[tuple[Release, Product]]:
    """Live releases whose re-certification is due at ``now`` and not already running."""
    candidates = repo.live_releases_with_recertification(session)
    last = repo.last_started(session, [release.id for release, _, _ in candidates])
    busy = {item.release_id for item in repo.running(session)}
    due = []
    for release, product, policy in candidates:
        when = due_at(release, policy, last.get(release.id))
        if release.id not in busy and when is not None and when <= now:
            due.append((release, product))
    return due


def start(session: Session, actor: Actor, release: Release, product: Product) -> Recertification:
    """Queue one re-certification run per suite of the live release's manifest."""
    run_ids = queue_runs_many(
        session,
        [(release, product)],
        actor=actor,
        chunk_size=unit_of(session).chunk_size,
        purpose=RunPurpose.recertification,
    )
    recertification = Recertification(
        product_id=product.id,
        release_id=release.id,
        state=RecertificationState.running,
        run_ids=run_ids,
        failing_cases=[],
        started_by=actor_name(actor),
        started_at=utcnow(),
    )
    session.add(recertification)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="recertification.started",
        subject_type="release",
        subject=f"{product.slug}#{release.number}",
        product_slug=product.slug,
        after={"release_id": release.id, "recertification_id": recertification.id, "runs": len(run_ids)},
    )
    return recertification


def recertify_due(session: Session, *, actor: Actor = SCHEDULER) -> list[Recertification]:
    """Start every re-certification that is due now (the scheduler and `steward recertify --due` call this)."""
    return [start(session, actor, release, product) for release, product in due_releases(session, utcnow())]


def recertify_now(session: Session, actor: User, slug: str) -> Recertification:
    """Re-certify a product's live release now, whatever the schedule (its owner or an admin)."""
    product = get_product(session, slug)
    require_product_manager(actor, product, action="re-certifying a product")
    release = repo.live_release(session, product.id)
    if release is None:
        raise Conflict(f"'{slug}' has no live release to re-certify", field="slug")
    if any(item.release_id == release.id for item in repo.running(session)):
        raise Conflict(f"a re-certification of '{slug}' release {release.number} is already running", field="slug")
    return start(session, actor, release, product)


def list_recertifications(session: Session, slug: str, *, limit: int = 50) -> list[Recertification]:
    """A product's re-certifications, newest first."""
    return repo.of_product(session, get_product(session, slug).id, limit)
