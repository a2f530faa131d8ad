"""Every query of compliance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.catalog.models import Component, ComponentKind, ComponentVersion
from governance.compliance.models import ClassificationVersion, DocumentFindings, ObligationEvidence
from governance.releases.models import Decision, Release, ReleaseState, SignOff


def latest_classification(session: Session, product_id: int) -> ClassificationVersion | None:
    query = (
        select(ClassificationVersion)
        .where(ClassificationVersion.product_id == product_id)
        .order_by(ClassificationVersion.number.desc())
        .limit(1)
    )
    return session.scalar(query)


def newest_evidence(session: Session, product_ids: Sequence[int]) -> dict[int, dict[str, ObligationEvidence]]:
    """The newest evidence of every obligation of each product: product id -> obligation -> evidence."""
    found: dict[int, dict[str, ObligationEvidence]] = {product_id: {} for product_id in product_ids}
    if not product_ids:
        return found
    query = (
        select(ObligationEvidence).where(ObligationEvidence.product_id.in_(product_ids)).order_by(ObligationEvidence.id)
    )
    for row in session.scalars(query):
        found[row.product_id][row.obligation] = row
    return found


def expired_while_live(session: Session, now: datetime) -> list[tuple[ObligationEvidence, int]]:
    """Expired evidence not yet reopened, of products with a live release: (evidence, product id)."""
    newest = (
        select(func.max(ObligationEvidence.id))
        .group_by(ObligationEvidence.product_id, ObligationEvidence.obligation)
        .scalar_subquery()
    )
    query = (
        select(ObligationEvidence, Release.product_id)
        .join(
            Release,
            and_(Release.product_id == ObligationEvidence.product_id, Release.state == ReleaseState.live.value),
        )
        .where(
            ObligationEvidence.id.in_(newest),
            ObligationEvidence.expires_at.is_not(None),
            ObligationEvidence.expires_at <= now,
            ObligationEvidence.reopened_at.is_(None),
        )
        .order_by(ObligationEvidence.product_id, ObligationEvidence.id)
    )
    return [(row, product_id) for row, product_id in session.execute(query).all()]


def document_findings(
    session: Session, versions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], list[dict[str, object]]]:
    """The lint findings of document versions given as (slug, number); versions never scanned are left out."""
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    query = (
        select(Component.name, ComponentVersion.number, DocumentFindings.findings)
        .join(ComponentVersion, ComponentVersion.component_id == Component.id)
        .join(DocumentFindings, DocumentFindings.version_id == ComponentVersion.id)
        .where(
            Component.kind == ComponentKind.document.value,
            Component.product_id.is_(None),
            or_(*(and_(Component.name == slug, ComponentVersion.number == number) for slug, number in wanted)),
        )
    )
    return {(name, number): list(findings) for name, number, findings in session.execute(query).all()}


def findings_of_version(session: Session, version_id: int) -> DocumentFindings | None:
    return session.get(DocumentFindings, version_id)


def live_release(session: Session, product_id: int) -> Release | None:
    query = select(Release).where(Release.product_id == product_id, Release.state == ReleaseState.live.value)
    return session.scalar(query)


def current_signoffs_and_approvals(session: Session, release: Release) -> tuple[list[SignOff], list[Decision]]:
    """The sign-offs and approvals given on the release's manifest in its current cycle, oldest first."""
    signoffs = select(SignOff).where(
        SignOff.release_id == release.id,
        SignOff.manifest_hash == release.manifest_hash,
        SignOff.cycle == release.cycle,
    )
    approvals = select(Decision).where(
        Decision.release_id == release.id,
        Decision.manifest_hash == release.manifest_hash,
        Decision.cycle == release.cycle,
        Decision.decision == "approved",
    )
    return list(session.scalars(signoffs.order_by(SignOff.id))), list(session.scalars(approvals.order_by(Decision.id)))


def authors_between(session: Session, kind: str, name: str, product_id: int | None, low: int, high: int) -> set[str]:
    """Who wrote versions ``low`` to ``high`` of one component."""
    query = (
        select(User.name)
        .join(ComponentVersion, ComponentVersion.author_id == User.id)
        .join(Component, Component.id == ComponentVersion.component_id)
        .where(
            Component.kind == kind,
            Component.name == name,
            Component.product_id == product_id if product_id is not None else Component.product_id.is_(None),
            ComponentVersion.number >= low,
            ComponentVersion.number <= high,
        )
    )
    return set(session.scalars(query))
