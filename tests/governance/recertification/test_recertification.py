"""Re-certification re-runs the live release's suites on schedule; a regression makes the product revalidate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from evals.providers.base import Completion
from evals.providers.offline import OfflineProvider
from governance.audit.models import AuditEvent
from governance.catalog.products import get_product
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict
from governance.recertification.models import RecertificationState
from governance.recertification.scheduling import due_releases, recertify_due, recertify_now
from governance.releases.reading import latest_release
from governance.releases.status import product_status
from governance.runs.execution import current_runs
from tests.factories import make_product
from tests.inline_worker import run_queued_chunks
from tests.live_products import live_product


def gone_live_days_ago(session, release, days: int) -> None:
    release.state_changed_at = utcnow() - timedelta(days=days)
    session.flush()


def test_a_live_release_is_due_after_the_policys_days(session):
    _owner, _slug, release = live_product(session)
    assert release.id not in {r.id for r, _ in due_releases(session, utcnow())}
    gone_live_days_ago(session, release, 181)
    assert release.id in {r.id for r, _ in due_releases(session, utcnow())}
    [started] = [r for r in recertify_due(session) if r.release_id == release.id]
    assert started.state == RecertificationState.running and len(started.run_ids) == 1
    # Running, it is not due again; the next one is due 180 days after this one started.
    assert release.id not in {r.id for r, _ in due_releases(session, utcnow() + timedelta(days=179))}


def test_a_recertification_that_holds_changes_nothing(session):
    owner, slug, release = live_product(session)
    evidence = [run.id for run in current_runs(session, release.id)]
    recertification = recertify_now(session, owner, slug)
    run_queued_chunks(session)
    session.refresh(recertification)
    assert recertification.state == RecertificationState.held and recertification.failing_cases == []
    assert product_status(session, get_product(session, slug)).status == "compliant"
    # Re-certification runs are never the release's evidence.
    assert [run.id for run in current_runs(session, release.id)] == evidence
    with pytest.raises(Conflict, match="no live release"):
        recertify_now(session, owner, make_product(session, owner))


def test_a_regression_makes_the_product_revalidation_required_naming_the_failing_cases(session, monkeypatch):
    owner, slug, release = live_product(session, cases=3)
    recertification = recertify_now(session, owner, slug)

    async def drifted(self, request):
        return Completion(text="Something else entirely.", prompt_tokens=1, completion_tokens=3, cost_usd=0.0)

    # The model behind the API drifted while nothing in Steward changed.
    monkeypatch.setattr(OfflineProvider, "complete", drifted)
    run_queued_chunks(session)
    session.refresh(recertification)
    assert recertification.state == RecertificationState.regressed
    assert [c["case_id"] for c in recertification.failing_cases] == ["case-0", "case-1", "case-2"]
    product = get_product(session, slug)
    status = product_status(session, product)
    assert status.status == "revalidation_required" and status.live_release == release.id
    cut = latest_release(session, product)
    assert cut.id == recertification.cut_release_id and cut.manifest_hash == release.manifest_hash
    assert cut.cause == {
        "kind": "recertification",
        "recertification_id": recertification.id,
        "failing_cases": ["quality/case-0", "quality/case-1", "quality/case-2"],
    }
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "recertification.regressed")).one()
    assert event.after["failing"] == 3 and "quality/case-0" in event.reason


def test_one_recertification_at_a_time(session):
    owner, slug, _release = live_product(session)
    recertify_now(session, owner, slug)
    with pytest.raises(Conflict, match="already running"):
        recertify_now(session, owner, slug)


def test_a_regression_of_a_release_retired_meanwhile_cuts_nothing(session, monkeypatch):
    owner, slug, release = live_product(session)
    recertification = recertify_now(session, owner, slug)

    async def drifted(self, request):
        return Completion(text="Something else entirely.", prompt_tokens=1, completion_tokens=3, cost_usd=0.0)

    monkeypatch.setattr(OfflineProvider, "complete", drifted)
    # A new release goes live before the re-certification runs: that change is what gets revalidated now.
    release.state = "retired"
    session.flush()
    run_queued_chunks(session)
    session.refresh(recertification)
    assert recertification.state == RecertificationState.regressed and recertification.cut_release_id is None
    assert latest_release(session, get_product(session, slug)).id == release.id
