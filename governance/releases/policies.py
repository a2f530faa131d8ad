"""Policies per risk tier: how many approvals, which pass rate, how fresh evidence must be."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.permissions import require_admin
from governance.audit.trail import record_event
from governance.catalog.models import RiskTier
from governance.kernel.db import utcnow
from governance.kernel.errors import NotFound
from governance.releases import repository as releases_repo
from governance.releases.models import Policy


class KpiThreshold(BaseModel):
    """A limit on a production KPI over a window: crossing it opens a task for the owner and sends a webhook."""

    model_config = ConfigDict(extra="forbid")

    kpi: Literal["override_rate", "satisfaction"] = Field(
        description="override_rate: share of answers a human overrode; satisfaction: mean rating from 0 to 1."
    )
    max: float | None = Field(default=None, ge=0, le=1, description="Crossed when the KPI is above this.")
    min: float | None = Field(default=None, ge=0, le=1, description="Crossed when the KPI is below this.")
    window_days: int = Field(default=7, ge=1, le=365, description="Days of feedback the KPI is computed over.")
    min_volume: int = Field(default=10, ge=1, le=1_000_000, description="Fewer pieces of feedback decide nothing.")

    @model_validator(mode="after")
    def _one_bound(self) -> KpiThreshold:
        if (self.max is None) == (self.min is None):
            raise ValueError("give exactly one of max and min")
        return self


class PolicyFairness(BaseModel):
    """Floors on every fairness suite's thresholds for this tier; unset ones leave the suite's own."""

    model_config = ConfigDict(extra="forbid")

    alpha: float | None = Field(default=None, gt=0, lt=1, description="At least this family-wise error rate.")
    min_impact_ratio: float | None = Field(default=None, ge=0, le=1, description="At least this (four-fifths: 0.8).")
    max_pass_rate_gap: float | None = Field(default=None, ge=0, le=1, description="At most this pass-rate gap.")
    min_similarity: float | None = Field(default=None, ge=0, le=1, description="At least this paired similarity.")
    max_length_gap: float | None = Field(default=None, ge=0, description="At most this relative length gap.")
    max_refusal_gap: float | None = Field(default=None, ge=0, le=1, description="At most this refusal-rate gap.")


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required_approvals: int | None = Field(default=None, ge=1, le=10, description="Distinct reviewers needed.")
    min_pass_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Floor on every suite's pass rate (a suite's own threshold may be higher).",
    )
    required_suites: list[str] | None = Field(
        default=None,
        description="Suite names every product of this tier must have and pass; [] means all of its suites.",
    )
    evidence_max_age_days: int | None = Field(
        default=None, ge=1, le=3650, description="Runs older than this must be re-run before approval."
    )
    revalidation_days: int | None = Field(
        default=None, ge=1, le=3650, description="Days from a change to when revalidation is due."
    )
    kpi_thresholds: list[KpiThreshold] | None = Field(
        default=None, max_length=20, description="Limits on production KPIs; [] removes them."
    )
    suspend_on_threshold: bool | None = Field(
        default=None, description="Crossing a KPI limit suspends a high-risk product, not just opens a task."
    )
    recertify_days: int | None = Field(
        default=None,
        ge=0,
        le=3650,
        description="Re-run the live release's suites this many days after going live or the last re-run; 0: never.",
    )
    refuse_offline_evidence: bool | None = Field(
        default=None,
        description="Refuse approval while a required suite's evidence comes only from the offline provider.",
    )
    offline_evidence_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Why offline evidence is accepted where the flag is off; shown to reviewers on the release page.",
    )
    document_lint: Literal["warn", "block"] | None = Field(
        default=None, description="Whether personal or special-category data in a document warns or blocks go-live."
    )
    editorial_carry_over: bool | None = Field(
        default=None,
        description="An editorial change's release carries over the live release's sign-off and approvals.",
    )
    fairness_thresholds: PolicyFairness | None = Field(
        default=None,
        description="Floors on fairness suites' thresholds (a suite may be stricter, never laxer); {} removes them.",
    )


def get_policy(session: Session, tier: str) -> Policy:
    policy = releases_repo.policy_or_none(session, tier)
    if policy is None:
        raise NotFound(f"no policy for risk tier '{tier}'", field="risk_tier")
    return policy


def list_policies(session: Session) -> list[Policy]:
    order = {tier.value: index for index, tier in enumerate(RiskTier)}
    return sorted(releases_repo.all_policies(session), key=lambda p: order.get(p.risk_tier, 99))


def policy_snapshot(policy: Policy) -> dict[str, Any]:
    return {
        "risk_tier": policy.risk_tier,
        "required_approvals": policy.required_approvals,
        "min_pass_rate": policy.min_pass_rate,
        "required_suites": list(policy.required_suites),
        "evidence_max_age_days": policy.evidence_max_age_days,
        "revalidation_days": policy.revalidation_days,
        "kpi_thresholds": [dict(item) for item in policy.kpi_thresholds or []],
        "suspend_on_threshold": policy.suspend_on_threshold,
        "recertify_days": policy.recertify_days,
        "refuse_offline_evidence": policy.refuse_offline_evidence,
        "offline_evidence_reason": policy.offline_evidence_reason,
        "document_lint": policy.document_lint,
        "editorial_carry_over": policy.editorial_carry_over,
        "fairness_thresholds": dict(policy.fairness_thresholds or {}),
    }


def update_policy(session: Session, actor: User, tier: RiskTier, data: PolicyUpdate) -> Policy:
    require_admin(actor, action="changing a policy")
    policy = get_policy(session, tier.value)
    before = policy_snapshot(policy)
    values = data.model_dump(exclude_unset=True, exclude_none=True)
    if data.kpi_thresholds is not None:
        # Stored whole, defaults included: what a limit means must not change when a default does.
        values["kpi_thresholds"] = [limit.model_dump(exclude_none=True) for limit in data.kpi_thresholds]
    if data.fairness_thresholds is not None:
        values["fairness_thresholds"] = data.fairness_thresholds.model_dump(exclude_none=True)
    for field, value in values.items():
        setattr(policy, field, value)
    if policy.recertify_days == 0:
        policy.recertify_days = None
    after = policy_snapshot(policy)
    if after != before:
        policy.updated_at, policy.updated_by = utcnow(), actor.name
        session.flush()
        changed = [k for k in after if after[k] != before[k]]
        record_event(
            session,
            actor=actor,
            action="policy.updated",
            subject_type="policy",
            subject=tier.value,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return policy
