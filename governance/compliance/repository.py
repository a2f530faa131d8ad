"""Every query of compliance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from governance.catalog.models import Component, ComponentKind, ComponentVersion
from governance.compliance.models import ClassificationVersion, DocumentFindings, ObligationEvidence
from governance.releases.models import Release, ReleaseState


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
