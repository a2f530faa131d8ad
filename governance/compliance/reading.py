"""Reading compliance: a product's classification and obligations, a release's, a document version's findings."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.catalog import repository as catalog_repo
from governance.catalog.models import ComponentKind
from governance.catalog.products import get_product
from governance.compliance import repository
from governance.compliance.lint import Finding
from governance.compliance.obligations import classification_of, product_obligations, release_compliance_many
from governance.compliance.schemas import ClassificationView, ObligationsView, VersionFindingsView
from governance.kernel.errors import NotFound
from governance.releases.policies import get_policy
from governance.releases.reading import get_release


def classification_view(session: Session, slug: str) -> ClassificationView:
    product = get_product(session, slug)
    result = classification_of(product)
    version = repository.latest_classification(session, product.id)
    return ClassificationView(
        **result.model_dump(),
        product=product.slug,
        risk_tier=product.risk_tier,
        tier_justification=version.tier_justification if version else None,
        version=version.number if version else None,
        declared_use=product.declared_use,
        classified_at=version.created_at if version else None,
    )


def obligations_view(session: Session, slug: str) -> ObligationsView:
    product = get_product(session, slug)
    return product_obligations(session, product, get_policy(session, product.risk_tier))


def release_obligations_view(session: Session, release_id: int) -> ObligationsView:
    release = get_release(session, release_id)
    product = catalog_repo.get_product_by_id(session, release.product_id)
    policy = get_policy(session, product.risk_tier)
    return release_compliance_many(session, [(release, product, policy)])[release.id].view


def version_findings(session: Session, slug: str, number: int) -> VersionFindingsView:
    component = catalog_repo.get_shared(session, ComponentKind.document, slug)
    version = catalog_repo.get_version(session, component.id, number) if component else None
    if component is None or version is None:
        raise NotFound(f"no version {number} of document '{slug}'", field="number")
    row = repository.findings_of_version(session, version.id)
    return VersionFindingsView(
        document=slug,
        version=number,
        scanned=row is not None,
        findings=[Finding.model_validate(f) for f in row.findings] if row else [],
    )
