"""What an audit entry links to and how its before/after read, from the event alone (no database)."""

from __future__ import annotations

from governance.audit.models import AuditEvent
from service.web.pages.audit import AuditFilters, Option, _resolve, entry_link, field_changes


def event(subject_type: str, subject: str, *, product: str | None = "goal-coach", after=None) -> AuditEvent:
    return AuditEvent(
        seq=1,
        actor="paula",
        action="x.y",
        subject_type=subject_type,
        subject=subject,
        product_slug=product,
        after=after,
    )


def test_releases_and_runs_link_to_the_release_page_by_product_and_number():
    releases = {("goal-coach", 3): 41}
    page = "/products/goal-coach/releases/3"
    assert entry_link(event("release", "goal-coach#3", after={"release_id": 7}), releases).href == page
    by_number = entry_link(event("release", "goal-coach#3", after={"state": "live"}), releases)
    assert (by_number.href, by_number.label) == (page, "goal-coach release 3")
    run = entry_link(event("run", "goal-coach#3/quality", after={"run_id": 9}), releases)
    assert run.href == f"{page}#run-9"
    assert entry_link(event("release", "goal-coach#4"), releases) is None
    assert entry_link(event("release", "not a release name"), releases) is None


def test_versions_link_to_their_history_page_and_products_to_theirs():
    prompt = entry_link(event("prompt", "goal-coach/system", after={"version": 2}), {})
    assert (prompt.href, prompt.label) == ("/products/goal-coach/prompts/system#v2", "prompt system v2")
    document = entry_link(event("document", "policy", product=None, after={"version": 5}), {})
    assert document.href == "/documents/policy#v5"
    assert entry_link(event("process", "goal-setting", product=None), {}).href == "/processes/goal-setting"
    assert entry_link(event("product", "goal-coach"), {}).href == "/products/goal-coach"
    assert entry_link(event("user", "paula", product=None), {}) is None


def test_before_and_after_become_labelled_fields_in_the_order_written():
    fields = field_changes({"state": "passed", "cycle": 1}, {"state": "live", "cycle": 1, "cause": {"kind": "doc"}})
    assert [(f.name, f.before, f.after, f.changed) for f in fields] == [
        ("state", "passed", "live", True),
        ("cycle", "1", "1", False),
        ("cause", None, '{"kind": "doc"}', True),
    ]
    assert field_changes(None, None) == []


def test_a_typed_actor_finds_the_user_by_id_or_display_name_in_any_case():
    options = [Option("paula", "Paula Policy"), Option("system", "system")]
    assert _resolve("Paula", options) == "paula"
    assert _resolve("paula policy", options) == "paula"
    assert _resolve("paula", options) == "paula"
    assert _resolve("Pau", options) == "Pau"
    assert _resolve("", options) == ""


def test_filters_keep_only_what_is_set_in_their_links():
    assert (
        AuditFilters(actor="paula", until="2026-01-31").query(older="abc") == "actor=paula&until=2026-01-31&older=abc"
    )
    assert not AuditFilters().any and AuditFilters(action="release.cut").any
