"""The file as Markdown and HTML, and two files compared section by section."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from governance.catalog import products
from governance.technical_file.comparing import compare
from governance.technical_file.freezing import technical_file
from governance.technical_file.rendering import cell, markdown, section_markdown
from governance.technical_file.schemas import SECTIONS
from service.web.technical_file import technical_file_html
from tests.technical_files import CHANGE_MESSAGE, live_demo, second_release


def test_the_markdown_has_every_section_the_frozen_hash_and_the_appendix(session):
    demo = live_demo(session)
    document = technical_file(session, demo.first.id)
    text = markdown(document)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[:10] == [f"## {i}. {title} ({ref})" for i, (_, title, ref) in enumerate(SECTIONS, start=1)]
    assert headings[10].startswith("## Appendix: since go-live (computed live, not part of the frozen file")
    assert document.frozen is not None and f"`{document.frozen.sha256}`" in text
    assert "Retention: 10 years, until" in text and "Rita Reviewer" in text and "| approval |" in text
    assert "DPIA-2026-014" in text and "| not_high_risk" not in text and "**not_high_risk**" in text


def test_the_html_is_a_printable_document_with_every_section_and_escapes_what_people_wrote(session):
    demo = live_demo(session)
    product = products.get_product(session, "goal-coach")
    document = technical_file(session, demo.first.id)
    document.file.general.description = "<script>alert(1)</script> & more"
    html = technical_file_html(document)
    assert html.startswith("<!doctype html>") and "@media print" in html and "@page" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    for key, title, _ in SECTIONS:
        assert f'id="tf-{key}"' in html and title in html
    assert product.name in html and "Frozen</strong>" in html


def test_two_releases_differ_in_the_sections_that_changed(session):
    live_demo(session)
    release = second_release(session, live=True)
    comparison = compare(session, release.id, 1)
    changed = {s.section for s in comparison.sections if s.changed}
    assert {"general", "components", "changes", "signoffs"} <= changed
    assert {"classification", "obligations", "oversight"}.isdisjoint(changed)
    components = next(s for s in comparison.sections if s.section == "components")
    assert components.diff.startswith("--- release 1/components\n+++ release 2/components\n")
    assert "-| prompt | system | 1 |" in components.diff and "+| prompt | system | 2 |" in components.diff
    changes = next(s for s in comparison.sections if s.section == "changes")
    assert CHANGE_MESSAGE in changes.diff
    unchanged = next(s for s in comparison.sections if s.section == "classification")
    assert unchanged.diff == ""
    frozen = technical_file(session, release.id).frozen
    assert frozen is not None and comparison.sha256 == frozen.sha256


def test_a_file_compared_with_itself_has_no_difference(session):
    demo = live_demo(session)
    comparison = compare(session, demo.first.id, 1)
    assert not any(s.changed for s in comparison.sections) and comparison.sha256 == comparison.compared_sha256


@given(st.one_of(st.text(max_size=80), st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3)))
def test_a_table_cell_is_one_line_and_keeps_its_text(value) -> None:
    rendered = cell(value)
    assert "\n" not in rendered and "\r" not in rendered
    assert "|" not in rendered.replace("\\|", "")
    source = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    if source and "\\" not in source and "|" not in source:
        assert rendered == source.replace("\r", " ").replace("\n", " ")


def test_each_section_renders_on_its_own(session):
    demo = live_demo(session)
    file = technical_file(session, demo.first.id).file
    for number, (key, title, _) in enumerate(SECTIONS, start=1):
        assert section_markdown(file, key).startswith(f"## {number}. {title}")


def test_a_draft_says_why_it_is_not_frozen(session):
    demo = live_demo(session)
    document = technical_file(session, demo.first.id)
    # A live release without a frozen file went live before files were frozen (an upgraded installation).
    unfrozen = document.model_copy(update={"status": "draft", "frozen": None})
    assert "went live before Steward froze technical files" in markdown(unfrozen)
    release = second_release(session, live=False)
    assert "it is frozen when the release goes live" in markdown(technical_file(session, release.id))
    assert "it is frozen when the release goes live" in technical_file_html(technical_file(session, release.id))
