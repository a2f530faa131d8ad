"""Policies per risk tier: only admins change them, each change is audited with what changed, and cuts obey them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from governance.accounts.roles import Role
from governance.audit.reading import export_events
from governance.catalog.models import RiskTier
from governance.kernel.errors import Forbidden
from governance.releases.models import ReleaseState
from governance.releases.policies import PolicyUpdate, get_policy, list_policies, update_policy
from tests.factories import make_user
from tests.governance.releases.conftest import add_suite


def policy_events(session) -> list[dict]:
    return [r for r in export_events(session) if r["action"] == "policy.updated"]


def test_the_tiers_come_in_order_with_their_defaults(session):
    policies = list_policies(session)
    assert [p.risk_tier for p in policies] == ["minimal", "limited", "high"]
    high = get_policy(session, "high")
    assert (high.required_approvals, high.revalidation_days, high.required_suites) == (2, 14, [])


@pytest.mark.parametrize("roles", [[Role.product_owner], [Role.reviewer], [Role.ci]])
def test_only_an_admin_changes_a_policy(session, roles):
    actor, _ = make_user(session, *roles)
    with pytest.raises(Forbidden, match="changing a policy requires the role admin"):
        update_policy(session, actor, RiskTier.high, PolicyUpdate(required_approvals=1))
    assert get_policy(session, "high").required_approvals == 2
    assert policy_events(session) == []


def test_a_change_is_audited_with_only_the_fields_that_changed(session):
    admin, _ = make_user(session, Role.admin)
    policy = update_policy(
        session, admin, RiskTier.limited, PolicyUpdate(required_approvals=1, revalidation_days=7, min_pass_rate=None)
    )
    assert policy.revalidation_days == 7 and policy.updated_by == admin.name
    (event,) = policy_events(session)
    assert (event["subject"], event["before"], event["after"]) == (
        "limited",
        {"revalidation_days": 30},
        {"revalidation_days": 7},
    )
    update_policy(session, admin, RiskTier.limited, PolicyUpdate(revalidation_days=7))
    assert len(policy_events(session)) == 1  # nothing changed, nothing recorded


def test_out_of_range_values_are_refused_by_the_payload():
    with pytest.raises(ValidationError):
        PolicyUpdate(required_approvals=0)
    with pytest.raises(ValidationError):
        PolicyUpdate(min_pass_rate=1.5)
    with pytest.raises(ValidationError):
        PolicyUpdate(unknown=1)


def test_a_required_suite_the_product_lacks_fails_its_release_at_once(session, owner, product):
    admin, _ = make_user(session, Role.admin)
    update_policy(session, admin, RiskTier.high, PolicyUpdate(required_suites=["safety"]))
    release = add_suite(session, owner, product, "quality")
    assert release.state == ReleaseState.failed.value
    assert release.error == "the high policy requires suites this product lacks: safety"
    release = add_suite(session, owner, product, "safety")
    assert release.state == ReleaseState.testing.value
