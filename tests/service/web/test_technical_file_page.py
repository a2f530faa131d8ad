"""The technical file page: the file in the app's layout, printable, and "compare with release N" side by side."""

from __future__ import annotations

from tests.service.web.test_pages import _sqlite_is_enough, sign_in, web  # noqa: F401  (fixtures)
from tests.technical_files import CHANGE_MESSAGE, live_demo, second_release


async def test_the_page_shows_the_frozen_file_and_the_release_page_links_to_it(web, session):  # noqa: F811
    demo = live_demo(session)
    await sign_in(web, demo.tokens["rita"])
    release_page = await web.get(f"/products/goal-coach/releases/{demo.first.number}")
    assert f'href="/products/goal-coach/releases/{demo.first.number}/technical-file"' in release_page.text
    page = await web.get(f"/products/goal-coach/releases/{demo.first.number}/technical-file")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    text = page.text
    assert "Technical file: Goal-setting coach, release 1" in text and "Frozen</strong>" in text
    assert 'href="/static/technical-file.css"' in text and "<style>" not in text
    assert 'id="tf-signoffs"' in text and "Ravi Reviewer" in text and "Appendix: since go-live" in text
    assert 'name="with"' not in text  # nothing else to compare with yet
    css = await web.get("/static/technical-file.css")
    assert css.status_code == 200 and "@media print" in css.text


async def test_compare_with_release_n_shows_the_changed_sections_side_by_side(web, session):  # noqa: F811
    demo = live_demo(session)
    release = second_release(session, live=True)
    await sign_in(web, demo.tokens["olivia"])
    page = await web.get(f"/products/goal-coach/releases/{release.number}/technical-file")
    assert '<option value="1">1</option>' in page.text
    compared = await web.get(f"/products/goal-coach/releases/{release.number}/technical-file?with=1")
    assert compared.status_code == 200
    text = compared.text
    assert "Release 1 → release 2" in text and '<option value="1" selected>' in text
    assert "Components, versions and sha256</h3>" in text and "Classification and its rationale</h3>" not in text
    assert '<tr class="tf-chg"><td>| prompt | system | 1 |' in text and CHANGE_MESSAGE in text
    missing = await web.get(f"/products/goal-coach/releases/{release.number}/technical-file?with=7")
    assert missing.status_code == 404 and "no release 7" in missing.text


async def test_strangers_are_sent_to_sign_in(web, session):  # noqa: F811
    demo = live_demo(session)
    response = await web.get(f"/products/goal-coach/releases/{demo.first.number}/technical-file")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=")
