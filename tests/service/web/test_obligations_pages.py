"""The compliance checklist on the product and release pages (templates/_obligations.html)."""

from __future__ import annotations

from tests.service.web.test_pages import POLICY, _sqlite_is_enough, sign_in, web, world  # noqa: F401  (fixtures)


async def test_the_product_page_shows_the_classification_and_the_demo_evidence(web, world):  # noqa: F811
    await sign_in(web, world["tokens"]["rita"])
    page = await web.get("/products/goal-coach")
    assert page.status_code == 200
    text = page.text
    assert "Compliance: not high risk" in text and "annex_iii_derogation" in text
    assert "Art. 6(3)(d)" in text and "Art. 6(4)" in text
    assert "Data protection impact assessment</strong> (GDPR Art. 35)" in text and "DPIA-2026-014" in text
    assert "Documented assessment" in text and text.count('class="badge ok">met') == 2
    assert "Go-live is blocked" not in text


async def test_the_release_page_shows_its_obligations_and_the_documents_findings(web, world):  # noqa: F811
    await sign_in(web, world["tokens"]["olivia"])
    page = await web.get(f"/products/goal-coach/releases/{world['release'].number}")
    assert page.status_code == 200
    assert "Compliance: not high risk" in page.text and "Document lint (findings warn)" in page.text
    assert f"{POLICY} v2" in page.text and "line 147: health" in page.text
