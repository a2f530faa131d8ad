"""Frozen at go-live: the stored file, its hash and the audit event agree, and nothing later changes the file."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from governance.accounts.users import get_user
from governance.audit.reading import export_events
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from governance.incidents.recording import record_incident
from governance.incidents.schemas import IncidentCreate
from governance.kernel.canonical import canonical_json
from governance.technical_file import repository
from governance.technical_file.freezing import canonical_content, freeze, sha256_of, technical_file
from tests.technical_files import live_demo, second_release


def frozen_events(session) -> list[dict]:
    return [e for e in export_events(session, product="goal-coach") if e["action"] == "technical_file.frozen"]


def test_the_frozen_hash_is_the_stored_contents_and_the_audit_events(session):
    demo = live_demo(session)
    row = repository.frozen_file(session, demo.first.id)
    assert row is not None and row.content is not None
    assert row.sha256 == hashlib.sha256(row.content.encode("utf-8")).hexdigest()
    [event] = frozen_events(session)
    assert event["after"]["sha256"] == row.sha256 and event["subject"] == "goal-coach#1"
    assert event["actor"] == "olivia" and event["seq"] == row.audit_seq
    document = technical_file(session, demo.first.id)
    assert document.status == "frozen" and document.frozen is not None and document.frozen.sha256 == row.sha256
    # What is served hashes to the recorded hash: the file round-trips through its canonical JSON unchanged.
    assert sha256_of(canonical_content(document.file)) == row.sha256
    assert canonical_json(document.file.model_dump(mode="json")) == row.content


def test_the_frozen_file_does_not_change_when_production_moves_or_a_new_release_goes_live(session):
    demo = live_demo(session)
    before = technical_file(session, demo.first.id)
    olivia = get_user(session, "olivia")
    record_feedback(session, olivia, "goal-coach", [FeedbackItem(release=1, thumbs="down", tags=["late"])])
    record_incident(
        session,
        olivia,
        "goal-coach",
        IncidentCreate(what_happened="A goal quoted a pay rise.", affected="One employee, corrected the same day."),
    )
    second_release(session, live=True)
    after = technical_file(session, demo.first.id)
    assert after.file == before.file and after.frozen == before.frozen
    assert after.file.general.state == "live"  # as it was when frozen, though release 1 is retired now
    # The appendix is computed live: it has the new feedback and the incident.
    assert before.since_go_live is not None and after.since_go_live is not None
    assert after.since_go_live.kpis.volume == before.since_go_live.kpis.volume + 1
    assert [i.what_happened for i in after.since_go_live.incidents] == ["A goal quoted a pay rise."]
    # Release 2 was frozen in its own go-live, with its own hash; release 1's event is not repeated.
    events = frozen_events(session)
    assert [e["subject"] for e in events] == ["goal-coach#1", "goal-coach#2"]
    assert events[0]["after"]["sha256"] != events[1]["after"]["sha256"]


def test_a_release_not_yet_live_is_a_draft_and_freezing_twice_keeps_the_first(session):
    demo = live_demo(session)
    release = second_release(session, live=False)
    draft = technical_file(session, release.id)
    assert draft.status == "draft" and draft.frozen is None and draft.since_go_live is None
    assert draft.retention.keep_until is None and draft.retention.years == 10
    row = repository.frozen_file(session, demo.first.id)
    assert row is not None
    again = freeze(session, demo.first, actor="someone")
    assert again.id == row.id and again.sha256 == row.sha256 and len(frozen_events(session)) == 1


def test_the_retention_is_shown_counted_from_the_freeze(session):
    demo = live_demo(session)
    document = technical_file(session, demo.first.id, retention_years=7)
    assert document.frozen is not None and document.retention.keep_until is not None
    assert document.retention.years == 7
    span = document.retention.keep_until - document.frozen.frozen_at
    assert timedelta(days=7 * 365) <= span <= timedelta(days=7 * 366)
