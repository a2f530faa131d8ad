"""History pages and the audit log in the web app, on SQLite and PostgreSQL (their reads are new queries).

The reference product goes live with release 1, then Paula (display name "Paula Ortiz") changes the policy the
product reads only through its goal-setting process: release 2 is cut and passes.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest

from governance.accounts import users as accounts
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish
from governance.releases.repository import list_for_product
from governance.review import decisions
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from service.web.pages import audit as audit_page
from tests.inline_worker import run_queued_chunks
from tests.service.api.test_query_counts import counting

POLICY = "performance-management-policy"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PEOPLE = {
    "olivia": ("Olivia Owner", Role.product_owner),
    "paula": ("Paula Ortiz", Role.product_owner),
    "rita": ("Rita Reviewer", Role.reviewer),
    "ravi": ("Ravi Reviewer", Role.reviewer),
}
# session (cookie, user); products, actors and actions of the drop-downs, with their names; the release causes
# of a product filter (2); the page and the look the other way; the releases the entries link to.
AUDIT_PAGE_MAX_QUERIES = 10


@pytest.fixture
async def web(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        yield http


@pytest.fixture
def world(session):
    users, tokens = {}, {}
    for name, (display, role) in PEOPLE.items():
        users[name], tokens[name] = accounts.create_user(
            session, None, UserCreate(name=name, display_name=display, roles=[role])
        )
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users["olivia"], shared_actor=users["paula"])
    product = get_product(session, "goal-coach")
    run_queued_chunks(session)
    first = list_for_product(session, product.id, before_number=0, limit=1)[0]
    decisions.sign_off(session, users["olivia"], first.id, decisions.SignOffRequest())
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, users[reviewer], first.id, decisions.ApproveRequest())
    decisions.go_live(session, users["olivia"], first.id)
    publish_policy(session, users["paula"], "\n\n14. Goals may be revised at mid-year.\n", "Allow mid-year revisions")
    run_queued_chunks(session)
    second = list_for_product(session, product.id, before_number=0, limit=1)[0]
    session.flush()
    return {"tokens": tokens, "users": users, "first": first, "second": second, "bundle": bundle}


def publish_policy(session, paula, addition: str, message: str, *, replace: tuple[str, str] | None = None) -> None:
    document = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml").documents[POLICY]
    content = document.content + addition
    if replace is not None:
        content = content.replace(*replace)
    changed = {**document.model_dump(), "content": content, "message": message}
    components.publish_document(session, paula, POLICY, DocumentPublish(**changed))


async def sign_in(web: httpx.AsyncClient, token: str) -> None:
    page = await web.get("/sign-in")
    csrf = CSRF.search(page.text).group(1)
    response = await web.post("/sign-in", data={"csrf_token": csrf, "token": token, "next": "/"})
    assert response.status_code == 303


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


async def test_a_document_history_lists_every_version_with_its_author_and_where_it_is_live(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    page = await web.get(f"/documents/{POLICY}")
    assert page.status_code == 200
    rows = re.findall(r'<tr id="v(\d+)">(.*?)</tr>', page.text, re.S)
    assert [number for number, _ in rows] == ["2", "1"]
    v2, v1 = rows[0][1], rows[1][1]
    assert "Paula Ortiz" in v2 and "Allow mid-year revisions" in v2
    sha = re.search(r'<code class="hash" title="([0-9a-f]{64})">([0-9a-f]{12})…</code>', v2)
    assert sha is not None and sha.group(1).startswith(sha.group(2))
    assert f'data-copy="{sha.group(1)}"' in v2
    # Release 1 is live and holds v1 (read through the process); release 2 is not live yet.
    assert (
        f'href="/products/goal-coach/releases/{world["first"].number}"' in v1
        and "live in goal-coach (release 1)" in text_of(v1)
    )
    assert "live in" not in text_of(v2)
    # Unasked, the newest change is shown side by side: the added clause on the right only.
    added = re.findall(r'<tr class="sbs-added">.*?</tr>', page.text, re.S)
    assert any("14. Goals may be revised at mid-year." in text_of(row) for row in added)
    assert f"/api/v1/documents/{POLICY}/diff?from=1&amp;to=2" in page.text
    # The policy is long and the change is at its end: the unchanged clauses before it are folded.
    assert re.search(r'<tr class="sbs-skip"><td colspan="4">⋯ \d+ unchanged lines</td></tr>', page.text)
    whole = await web.get(f"/documents/{POLICY}", params={"a": 1, "b": 2, "whole": "true"})
    assert "sbs-skip" not in whole.text and "title: Performance management policy" in whole.text
    assert "Show only the changes" in whole.text


async def test_two_chosen_versions_are_compared_word_by_word(web, world, session):
    publish_policy(
        session,
        world["users"]["paula"],
        "\n\n14. Goals may be revised at the mid-year check-in.\n",
        "Name the check-in",
    )
    session.flush()
    await sign_in(web, world["tokens"]["rita"])
    page = await web.get(f"/documents/{POLICY}", params={"a": 2, "b": 3})
    assert page.status_code == 200
    changed = re.findall(r'<tr class="sbs-changed">(.*?)</tr>', page.text, re.S)
    assert len(changed) == 1
    assert re.findall(r"<del>(.*?)</del>", changed[0]) == []
    assert [text_of(word) for word in re.findall(r"<ins>(.*?)</ins>", changed[0])] == ["the ", " check-in"]
    assert '<option value="2" selected>' in page.text and '<option value="3" selected>' in page.text
    backwards = await web.get(f"/documents/{POLICY}", params={"a": 3, "b": 1})
    assert backwards.status_code == 200 and "<del>" in backwards.text
    against_head = await web.get(f"/documents/{POLICY}", params={"a": 1})
    assert '<option value="1" selected>' in against_head.text and '<option value="3" selected>' in against_head.text
    against_previous = await web.get(f"/documents/{POLICY}", params={"b": 2})
    assert (
        '<option value="1" selected>' in against_previous.text
        and '<option value="2" selected>' in against_previous.text
    )
    missing = await web.get(f"/documents/{POLICY}", params={"a": 9, "b": 1})
    assert missing.status_code == 422 and "no version 9" in missing.text


async def test_prompt_suite_and_process_pages_and_their_404s(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    for path in ("/products/goal-coach/prompts/system", "/products/goal-coach/suites/goal-coach-quality"):
        page = await web.get(path)
        assert page.status_code == 200
        assert "Olivia Owner" in page.text and "live in goal-coach (release 1)" in text_of(page.text)
        assert "There is only one version so far." in page.text
    process = await web.get("/processes/goal-setting")
    assert process.status_code == 200 and "Paula Ortiz" in process.text
    assert "live in goal-coach (release 1)" in text_of(process.text)
    assert (await web.get("/products/goal-coach/prompts/nope")).status_code == 404
    assert (await web.get("/documents/nope")).status_code == 404
    assert (await web.get("/products/nope/suites/goal-coach-quality")).status_code == 404


async def test_the_product_page_lists_documents_reached_through_a_process_and_links_every_component(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    page = (await web.get("/products/goal-coach")).text
    rows = dict(re.findall(r'<tr data-component="([a-z]+:[a-z0-9-]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {
        "prompt:system",
        "suite:goal-coach-quality",
        "suite:goal-coach-fairness",
        "process:goal-setting",
        "document:smart-goals-guide",
        f"document:{POLICY}",
    }
    policy = rows[f"document:{POLICY}"]
    assert f'href="/documents/{POLICY}"' in policy and "via process goal-setting" in policy
    # Head v2 (the change); the live release 1 still holds v1.
    assert "v2" in text_of(policy) and f'href="/documents/{POLICY}#v1">v1</a>' in policy
    assert 'href="/products/goal-coach/prompts/system"' in rows["prompt:system"]
    assert 'href="/products/goal-coach/suites/goal-coach-quality"' in rows["suite:goal-coach-quality"]
    # The graph's boxes link to the same pages and give the version of a document read through the process.
    assert f'<a href="/documents/{POLICY}">' in page and "v2 via process" in page
    assert '<a href="/processes/goal-setting">' in page
    graph = page[page.index("<svg") : page.index("</svg>")]
    assert '<a href="/products/goal-coach/prompts/system">' in graph and "suite: goal-coach-quality" in graph


async def test_the_audit_log_is_newest_first_with_display_names_links_and_labelled_fields(web, world):
    await sign_in(web, world["tokens"]["rita"])
    page = await web.get("/audit")
    assert page.status_code == 200
    seqs = [int(seq) for seq in re.findall(r'<tr id="event-(\d+)">', page.text)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 5
    assert "Chain verified" not in page.text and "Verify the chain now" in page.text
    assert '<option value="paula">Paula Ortiz (paula)</option>' in page.text
    assert '<option value="goal-coach">Goal-setting coach (goal-coach)</option>' in page.text
    assert '<option value="document.published">' in page.text
    assert '<input id="f-since" type="date"' in page.text
    published = re.search(
        r'<tr id="event-\d+">(?:(?!</tr>\s*<tr id).)*?document\.published.*?</table>', page.text, re.S
    )
    assert published is not None
    entry = published.group(0)
    assert f'href="/documents/{POLICY}#v2"' in entry and "Paula Ortiz" in entry
    assert '<th scope="row">version</th>' in entry and "<del>1</del>" in entry and "<ins>2</ins>" in entry
    assert f'href="/products/goal-coach/releases/{world["second"].number}"' in page.text


async def test_filters_find_paula_by_name_and_a_product_keeps_the_publishes_that_cut_its_releases(web, world):
    await sign_in(web, world["tokens"]["rita"])
    by_name = await web.get("/audit", params={"actor": "Paula"})
    actors = set(re.findall(r'<td>([^<]+)<span class="muted actor-name">([^<]+)</span></td>', by_name.text))
    assert actors == {("Paula Ortiz", "paula")}
    assert '<option value="paula" selected>' in by_name.text
    product = await web.get("/audit", params={"product": "goal-coach", "action": "document.published"})
    # The policy is shared (its events carry no product) and its publish cut release 2 of goal-coach.
    assert f"document {POLICY} v2" in product.text
    assert f"document {POLICY} v1" not in product.text
    runs = await web.get("/audit", params={"product": "goal-coach", "action": "run.passed"})
    assert f'href="/products/goal-coach/releases/{world["second"].number}#run-' in runs.text
    assert f'href="/products/goal-coach/releases/{world["first"].number}#run-' in runs.text
    nothing = await web.get("/audit", params={"actor": "nobody-at-all"})
    assert "No events match." in nothing.text
    dated = await web.get("/audit", params={"since": "2000-01-01", "until": "2000-01-31"})
    assert "No events match." in dated.text
    refused = await web.get("/audit", params={"since": "last tuesday", "actor": "paula", "until": "2000-01-31"})
    assert refused.status_code == 422 and "2025-01-31" in refused.text
    # The log again, every filter as typed, the reason beside the refused date.
    assert 'aria-invalid="true" aria-describedby="f-since-error"' in refused.text
    assert 'id="f-since-error">give a date like 2025-01-31' in refused.text and "last tuesday" in refused.text
    assert 'value="2000-01-31"' in refused.text and "No events match." in refused.text


async def test_paging_goes_older_and_back_newer(web, world, monkeypatch):
    monkeypatch.setattr(audit_page, "AUDIT_PAGE", 3)
    await sign_in(web, world["tokens"]["rita"])
    first = await web.get("/audit", params={"product": "goal-coach"})
    first_seqs = re.findall(r'<tr id="event-(\d+)">', first.text)
    assert len(first_seqs) == 3 and "Newer events" not in first.text
    older = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', first.text).group(1))
    assert "product=goal-coach" in older
    second = await web.get(older)
    second_seqs = re.findall(r'<tr id="event-(\d+)">', second.text)
    assert second_seqs and int(second_seqs[0]) < int(first_seqs[-1])
    newer = html.unescape(re.search(r'<a href="([^"]+)" rel="prev">', second.text).group(1))
    back = await web.get(newer)
    assert re.findall(r'<tr id="event-(\d+)">', back.text) == first_seqs
    assert "Newer events" not in back.text


async def test_the_chain_is_verified_on_request(web, world):
    await sign_in(web, world["tokens"]["rita"])
    verified = await web.get("/audit/verify")
    assert verified.status_code == 200 and "Chain verified" in verified.text


async def test_the_audit_page_costs_a_bounded_number_of_queries_however_long_the_trail(web, world, connection, session):
    await sign_in(web, world["tokens"]["rita"])
    path = "/audit?product=goal-coach"
    with counting(connection) as short:
        assert (await web.get(path)).status_code == 200
    for number in range(15):
        publish_policy(session, world["users"]["paula"], f"\n\n{number + 20}. A further clause.\n", f"Clause {number}")
    session.flush()
    with counting(connection) as long:
        assert (await web.get(path)).status_code == 200
    assert len(long) == len(short) <= AUDIT_PAGE_MAX_QUERIES


async def test_the_api_says_which_version_each_live_release_holds(web, world):
    headers = {"Authorization": f"Bearer {world['tokens']['rita']}"}
    first = world["first"]
    policy = await web.get(f"/api/v1/documents/{POLICY}/live", headers=headers)
    assert policy.status_code == 200
    assert policy.json() == [{"product": "goal-coach", "release_id": first.id, "release_number": 1, "version": 1}]
    prompt = await web.get("/api/v1/products/goal-coach/prompts/system/live", headers=headers)
    assert [use["version"] for use in prompt.json()] == [1]
    missing = await web.get("/api/v1/processes/nope/live", headers=headers)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
