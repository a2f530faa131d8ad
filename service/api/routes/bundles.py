"""Bundles: plan and apply a whole steward.yaml (with its files' contents) as one change."""

from __future__ import annotations

from fastapi import APIRouter

from governance.bundles import applying
from governance.bundles.schemas import BundlePlan, BundleRequest
from service.api.deps import CurrentUser, DbSession

router = APIRouter(tags=["bundles"])


@router.post(
    "/bundles/plan",
    summary="What applying a steward.yaml would do, item by item, with every problem; writes nothing.",
)
def plan_bundle(body: BundleRequest, session: DbSession, actor: CurrentUser) -> BundlePlan:
    """Each item created, changed (with its diff) or unchanged; every refusal, validation error and conflict
    found, not only the first; and the releases that applying would cut. Nothing is written."""
    return applying.plan_bundle(session, actor, body)


@router.post(
    "/bundles/apply",
    summary="Apply a steward.yaml as one transaction: everything or nothing, at most one release per product.",
    responses={
        403: {"description": "An item is refused to the caller; nothing was written."},
        409: {"description": "A component's head was published outside this bundle (or is not the expected one)."},
        422: {"description": "An item is invalid; nothing was written."},
    },
)
def apply_bundle(body: BundleRequest, session: DbSession, actor: CurrentUser) -> BundlePlan:
    """Apply every item in one transaction, or none when any is refused, invalid or in conflict (the problem
    names each one). With `force`, conflicting heads are overwritten and each overwrite is audited."""
    return applying.apply_bundle(session, actor, body)
