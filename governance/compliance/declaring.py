"""Re-classify a product when what it is classified by changes, guard its risk tier, and cut a release on a new tier.

The catalog announces ``ProductDeclared`` for a new product and for a change of declared use, intended purpose
or risk tier. Each change of a declared product becomes a new classification version; a change of the
classification's outcome (its class, minimum tier or obligations) cuts a release, because what reviewers approved
was approved under the obligations of the old one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from governance.accounts.roles import Role
from governance.audit.trail import record_event
from governance.catalog.events import ProductDeclared
from governance.compliance import repository
from governance.compliance.classification import below
from governance.compliance.models import ClassificationVersion
from governance.compliance.obligations import classification_of
from governance.kernel.errors import Forbidden, Invalid
from governance.kernel.events import subscribe
from governance.releases.cutting import cut_releases


def _outcome(result: dict[str, Any]) -> tuple[Any, ...]:
    return (result["classification"], result["minimum_tier"], result["aedt"], tuple(result["obligations"]))


@subscribe(ProductDeclared)
def reclassify(session: Session, event: ProductDeclared) -> None:
    product, actor = event.product, event.actor
    previous = repository.latest_classification(session, product.id)
    if product.declared_use is None and previous is None:
        return  # nothing declared, ever: minimal by default, nothing to version
    result = classification_of(product)
    justification = event.justification
    if below(product.risk_tier, result.minimum_tier):
        if justification is None and previous is not None and previous.risk_tier == product.risk_tier:
            justification = previous.tier_justification  # an admin's standing reason for this tier
        if justification is None:
            raise Invalid(
                f"risk tier '{product.risk_tier}' is below '{result.minimum_tier.value}', the tier its declared use "
                f"needs ({result.classification}, rule {result.rule}); only an admin may set it lower, with a "
                "written risk_tier_justification",
                field="risk_tier",
            )
        if event.justification is not None and not actor.has_role(Role.admin):
            raise Forbidden("only an admin may set a risk tier below the computed one", field="risk_tier")
        if event.justification is not None:
            record_event(
                session,
                actor=actor,
                action="product.risk_tier_overridden",
                subject_type="product",
                subject=product.slug,
                product_slug=product.slug,
                before={"minimum_tier": result.minimum_tier.value, "classification": result.classification},
                after={"risk_tier": product.risk_tier},
                reason=event.justification,
            )
    else:
        justification = None
    dumped = result.model_dump(mode="json")
    version = ClassificationVersion(
        product_id=product.id,
        number=(previous.number if previous else 0) + 1,
        declared_use=product.declared_use,
        intended_purpose=product.intended_purpose,
        classification=result.classification,
        risk_tier=product.risk_tier,
        result=dumped,
        tier_justification=justification,
        author=actor.name,
    )
    session.add(version)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="product.classified",
        subject_type="product",
        subject=product.slug,
        product_slug=product.slug,
        before=_summary(previous.result) if previous else None,
        after={**_summary(dumped), "version": version.number},
    )
    if previous is not None and _outcome(previous.result) != _outcome(dumped):
        cause = {
            "kind": "classification",
            "name": product.slug,
            "author": actor.name,
            "before": _summary(previous.result),
            "after": _summary(dumped),
        }
        cut_releases(session, actor, [product], cause, force=True)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result[key] for key in ("classification", "rule", "minimum_tier", "aedt", "obligations")}
