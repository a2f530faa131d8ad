"""Every section of the goal coach's technical file, filled from the demo's own data."""

from __future__ import annotations

from governance.accounts.users import get_user
from governance.audit.reading import export_events
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from governance.technical_file.assembling import assemble
from governance.technical_file.freezing import technical_file
from governance.technical_file.schemas import SECTIONS, TechnicalFile
from service.seed import DEMO_EVIDENCE
from tests.technical_files import CHANGE_MESSAGE, live_demo, second_release


def test_the_first_release_has_every_section_from_the_demo(session):
    demo = live_demo(session)
    file = technical_file(session, demo.first.id).file
    assert {key for key, _, _ in SECTIONS} <= set(TechnicalFile.model_fields)

    general = file.general
    assert (general.product, general.release, general.state) == ("goal-coach", 1, "live")
    assert general.intended_purpose.startswith("Optional drafting help in the goal-setting step")
    assert general.owner.name == "olivia" and general.owner.display_name.startswith("Olivia Owner")
    assert general.manifest_hash == demo.first.manifest_hash

    # The goal coach is Annex III 4(b) by its use, and not high-risk by Art. 6(3)(d): the reasoning is in the file.
    classification = file.classification
    assert (classification.classification, classification.rule) == ("not_high_risk", "annex_iii_derogation")
    references = [reason.reference for reason in classification.rationale]
    assert "Art. 6(2), Annex III point 4(b)" in references and "Art. 6(3)(d)" in references
    assert classification.assessment and "Art. 6(4)" in classification.assessment

    manifest = demo.first.manifest
    listed = {(c.kind, c.name): (c.version, c.sha256) for c in file.components.components}
    expected = {
        (section[:-1] if section != "processes" else "process", name): (entry["version"], entry["sha256"])
        for section in ("prompts", "suites", "documents", "processes")
        for name, entry in manifest[section].items()
    }
    assert listed == expected and len(listed) == 6  # a prompt, two suites, two documents, a process
    assert file.components.model["provider"] == "offline"

    assert file.changes.compared_with is None
    assert {c["change"] for c in file.changes.changes} == {"added"}
    assert {(n.kind, n.name, n.author.name) for n in file.changes.notes} >= {("prompt", "system", "olivia")}

    tests = file.tests
    runs = {run.suite: run for run in tests.runs}
    assert tests.verdict == "PASSED" and set(runs) == {"goal-coach-quality", "goal-coach-fairness"}
    quality = runs["goal-coach-quality"]
    assert quality.pass_rate == 1.0 and quality.finished_at is not None and quality.offline

    acts = [(s.act, s.person.name) for s in file.signoffs.signatures]
    assert acts == [("sign-off", "olivia"), ("approval", "rita"), ("approval", "ravi"), ("go-live", "olivia")]
    assert all(s.at is not None and s.person.display_name for s in file.signoffs.signatures)
    assert file.signoffs.signatures[0].note.startswith("Initial launch")
    assert file.signoffs.required_approvals == 2

    assert any(m.startswith("Four eyes") for m in file.oversight.measures)
    assert any(m.startswith("Stop button") for m in file.oversight.measures)
    assert file.risk.risk_tier == "high" and file.risk.kpi_thresholds and file.risk.required_failures == []

    # Frozen at go-live, before the pilot's feedback: the file says so, and the appendix reads it live.
    assert file.production.release_kpis.volume == 0 and file.production.incidents == []

    obligations = {o.obligation: o for o in file.obligations.obligations}
    assert set(obligations) == {"dpia", "derogation_assessment"}
    assert all(o.status == "met" for o in obligations.values()) and file.obligations.blocking == []
    assert obligations["dpia"].evidence == DEMO_EVIDENCE["dpia"]
    assert {d.document for d in file.obligations.documents} == {"performance-management-policy", "smart-goals-guide"}


def test_the_second_release_says_what_changed_and_why_in_its_authors_words(session):
    live_demo(session)
    release = second_release(session, live=False)
    file = assemble(session, release)
    assert file.changes.compared_with == 1
    assert file.changes.changes == [
        {"kind": "prompt", "name": "system", "change": "changed", "from_version": 1, "to_version": 2}
    ]
    assert [(n.name, n.version, n.author.name, n.message) for n in file.changes.notes] == [
        ("system", 2, "olivia", CHANGE_MESSAGE)
    ]
    assert file.signoffs.signatures == [] and file.general.state == "passed"
    # The previous release's production record: the pilot's feedback on release 1.
    assert file.production.previous == 1 and file.production.previous_kpis is not None
    assert file.production.previous_kpis.volume == 12


def test_production_feedback_and_incidents_of_the_release_are_in_a_draft(session):
    live_demo(session)
    release = second_release(session, live=True)
    olivia = get_user(session, "olivia")
    record_feedback(session, olivia, "goal-coach", [FeedbackItem(release=2, thumbs="up", tags=["pilot"])])
    draft = assemble(session, release)
    assert draft.production.release_kpis.volume == 1
    assert any(e["action"] == "technical_file.frozen" for e in export_events(session, product="goal-coach"))
