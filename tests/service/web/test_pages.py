"""The web app without a browser: pages render with JavaScript off, sign-in, cookie flags, CSRF, refusals, escaping."""

from __future__ import annotations

import copy
import re

import httpx
import pytest

from governance.accounts import users as accounts
from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.products import get_product, update_product
from governance.catalog.schemas import DocumentPublish, ProductUpdate, SuitePublish
from governance.releases.models import Release
from governance.releases.reading import get_release
from governance.releases.repository import list_for_product
from governance.review import decisions
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from service.web.sessions import COOKIE_NAME
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks

POLICY = "performance-management-policy"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _sqlite_is_enough(database_url):
    # The web layer runs no SQL of its own; the domain functions it calls are tested on both databases elsewhere.
    if database_url.startswith("postgresql"):
        pytest.skip("web routes are tested on SQLite only")


@pytest.fixture
async def web(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        yield http


@pytest.fixture
def world(session):
    """The reference product live, then a policy change: release 2 passed and waiting for olivia's sign-off."""
    users = {
        name: make_user(session, role, name=name)
        for name, role in (
            ("olivia", Role.product_owner),
            ("paula", Role.product_owner),
            ("rita", Role.reviewer),
            ("ravi", Role.reviewer),
        )
    }
    actors = {name: user for name, (user, _) in users.items()}
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=actors["olivia"], shared_actor=actors["paula"])
    product = get_product(session, "goal-coach")
    run_queued_chunks(session)
    first = list_for_product(session, product.id, before_number=0, limit=1)[0]
    decisions.sign_off(session, actors["olivia"], first.id, decisions.SignOffRequest())
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, actors[reviewer], first.id, decisions.ApproveRequest())
    decisions.go_live(session, actors["olivia"], first.id)
    document = bundle.documents[POLICY]
    changed = {**document.model_dump(), "content": document.content + "\n\n14. Goals may be revised at mid-year.\n"}
    components.publish_document(session, actors["paula"], POLICY, DocumentPublish(**changed))
    run_queued_chunks(session)
    release = list_for_product(session, product.id, before_number=0, limit=1)[0]
    assert release.state == "passed"
    session.flush()
    return {"tokens": {name: token for name, (_, token) in users.items()}, "release": release, "users": actors}


def page_of(release: Release) -> str:
    """A release's page by the identifier people quote; every release here is the reference product's."""
    return f"/products/goal-coach/releases/{release.number}"


async def sign_in(web: httpx.AsyncClient, token: str, next_path: str = "/") -> httpx.Response:
    page = await web.get("/sign-in")
    csrf = CSRF.search(page.text).group(1)
    return await web.post("/sign-in", data={"csrf_token": csrf, "token": token, "next": next_path})


async def csrf_of(web: httpx.AsyncClient, path: str) -> str:
    return CSRF.search((await web.get(path)).text).group(1)


async def test_pages_send_strangers_to_sign_in(web):
    response = await web.get("/products/goal-coach")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/products/goal-coach"
    page = await web.get("/sign-in")
    assert page.status_code == 200
    assert '<label for="token">API token</label>' in page.text


async def test_sign_in_sets_a_signed_httponly_samesite_cookie_without_the_token(web, world):
    token = world["tokens"]["olivia"]
    response = await sign_in(web, token, "/products/goal-coach")
    assert response.status_code == 303 and response.headers["location"] == "/products/goal-coach"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert token not in cookie and token[4:20] not in cookie
    home = await web.get("/")
    assert "Signed in as <strong>olivia</strong>" in home.text


async def test_a_wrong_token_is_refused_with_a_message(web, world):
    response = await sign_in(web, "stw_not-a-token")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    page = await web.get(response.headers["location"])
    assert "unknown or revoked" in page.text
    assert (await web.get("/")).status_code == 303


async def test_a_runtime_token_cannot_sign_in_to_the_web_app(web, world, session):
    from governance.accounts.schemas import UserCreate

    _, token = accounts.create_user(
        session, None, UserCreate(name="coach-app", roles=[Role.runtime], products=["goal-coach"])
    )
    session.flush()
    response = await sign_in(web, token)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    page = await web.get(response.headers["location"])
    assert "runtime token may only" in page.text
    assert (await web.get("/")).status_code == 303


async def test_the_product_page_says_a_suspended_product_is_stopped_and_why(web, world, session):
    from governance.serving.schemas import SuspendRequest
    from governance.serving.suspension import suspend

    reason = "Stopping: the coach promised a pay rise to an employee."
    suspend(session, world["users"]["rita"], "goal-coach", SuspendRequest(reason=reason))
    session.flush()
    await sign_in(web, world["tokens"]["olivia"])
    page = await web.get("/products/goal-coach")
    assert page.status_code == 200
    assert "Suspended</strong>" in page.text and "promised a pay rise" in page.text and "by rita" in page.text
    home = await web.get("/")
    assert "<strong>suspended</strong>" in home.text and "stopped by rita" in home.text


async def test_sign_in_never_redirects_off_site(web, world):
    response = await sign_in(web, world["tokens"]["olivia"], "//evil.example/steal")
    assert response.headers["location"] == "/"


async def test_every_page_reads_with_javascript_off(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    rid = page_of(world["release"])
    home = await web.get("/")
    assert "revalidation required" in home.text and "high" in home.text and "due " in home.text
    assert f'href="{rid}"' in home.text and "sign off" in home.text
    product = await web.get("/products/goal-coach")
    assert "<svg" in product.text and "process: goal-setting" in product.text
    assert f"document: {POLICY}" in product.text and "Audit timeline" in product.text
    release = await web.get(f"{rid}")
    text = release.text
    assert "waiting for the product owner" in text
    assert "<ins" in text and "14. Goals may be revised at mid-year." in text
    assert "offline provider" in text and "meets it" in text
    assert f"Sign off release {world['release'].number}" in text and "Approve release" not in text
    impact = await web.get("/impact", params={"component": f"document:{POLICY}"})
    assert "goal-coach → process:goal-setting → document:performance-management-policy" in impact.text
    audit = await web.get("/audit", params={"actor": "paula"})
    assert "Verify the chain now" in audit.text and "document.published" in audit.text
    verified = await web.get("/audit/verify")
    assert "Chain verified" in verified.text
    for page in (home, product, release, impact, audit, verified):
        assert page.status_code == 200
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert scripts == ['<script src="/static/htmx.min.js" defer>', '<script src="/static/copy.js" defer>']
        # Copy buttons need the script: without it they stay hidden, and the full hash is in the title.
        assert all(" hidden " in button for button in re.findall(r"<button[^>]*data-copy[^>]*>", page.text))
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


async def test_forms_without_the_csrf_token_are_refused(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    rid = page_of(world["release"])
    missing = await web.post(f"{rid}/signoff", data={"note": "x"})
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = await web.post(f"{rid}/signoff", data={"note": "x", "csrf_token": "forged"})
    assert wrong.status_code == 403
    token = await csrf_of(web, f"{rid}")
    elsewhere = await web.post(f"{rid}/signoff", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    assert "waiting for the product owner" in (await web.get(f"{rid}")).text
    done = await web.post(f"{rid}/signoff", data={"note": "read it", "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == f"{rid}"
    assert f"Signed off release {world['release'].number}." in (await web.get(done.headers["location"])).text


async def test_a_refused_action_shows_the_rule_that_refused_it(web, world, session):
    rid = page_of(world["release"])
    await sign_in(web, world["tokens"]["rita"])
    token = await csrf_of(web, f"{rid}")
    refused = await web.post(f"{rid}/signoff", data={"csrf_token": token})
    assert refused.status_code == 303
    page = await web.get(refused.headers["location"])
    assert "Refused: only the owner of &#39;goal-coach&#39; (olivia) signs off its releases" in page.text
    assert 'role="alert"' in page.text
    too_early = await web.post(f"{rid}/approve", data={"csrf_token": token})
    page = await web.get(too_early.headers["location"])
    assert "only a signed-off release can be approved" in page.text
    # A reason too short comes back on the page with what was typed and the error beside its field.
    short = await web.post(f"{rid}/reject", data={"csrf_token": token, "reason": "no"})
    assert short.status_code == 422
    assert '<textarea id="reject-reason"' in short.text and ">no</textarea>" in short.text
    assert 'aria-invalid="true" aria-describedby="reject-reason-error"' in short.text
    assert 'id="reject-reason-error">String should have at least 3 characters</p>' in short.text
    assert get_release(session, world["release"].id).state == "passed"


async def test_owner_sees_no_approve_button_and_reviewers_do(web, world, session):
    rid = page_of(world["release"])
    decisions.sign_off(session, world["users"]["olivia"], world["release"].id, decisions.SignOffRequest())
    session.flush()
    await sign_in(web, world["tokens"]["olivia"])
    owner_page = (await web.get(f"{rid}")).text
    assert "Approve release" not in owner_page
    assert "an owner never reviews their own product" in owner_page or "requires the role reviewer" in owner_page
    await web.post("/sign-out", data={"csrf_token": await csrf_of(web, "/")})
    await sign_in(web, world["tokens"]["rita"])
    reviewer_page = (await web.get(f"{rid}")).text
    number = world["release"].number
    assert f"Approve release {number}" in reviewer_page and f"Reject release {number}" in reviewer_page
    home = (await web.get("/")).text
    assert "Releases awaiting your approval" in home


async def test_sign_out_and_revoked_tokens_end_the_session(web, world, session):
    await sign_in(web, world["tokens"]["ravi"])
    out = await web.post("/sign-out", data={"csrf_token": await csrf_of(web, "/")})
    assert out.status_code == 303 and "Max-Age" in out.headers["set-cookie"]
    assert (await web.get("/")).status_code == 303
    await sign_in(web, world["tokens"]["ravi"])
    assert (await web.get("/")).status_code == 200
    row = accounts.list_tokens(session, world["users"]["ravi"])[0]
    accounts.revoke_token(session, world["users"]["ravi"], row.id)
    session.flush()
    assert (await web.get("/")).status_code == 303


async def test_everything_users_wrote_is_escaped(web, session):
    user, token = make_user(session, Role.product_owner, name="mallory")
    slug = make_product(session, user, "escaping-test")
    update_product(session, user, slug, ProductUpdate(name="<script>alert(1)</script>"))
    session.flush()
    await sign_in(web, token)
    home = (await web.get("/")).text
    assert "<script>alert(1)</script>" not in home
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home


async def test_run_progress_fragment_polls_while_testing_and_reloads_after(web, world, session):
    await sign_in(web, world["tokens"]["olivia"])
    document = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml").documents[POLICY]
    changed = {**document.model_dump(), "content": document.content + "\n\n15. Another clause.\n"}
    components.publish_document(session, world["users"]["paula"], POLICY, DocumentPublish(**changed))
    session.flush()
    release = list_for_product(session, world["release"].product_id, before_number=0, limit=1)[0]
    page = (await web.get(f"{page_of(release)}")).text
    assert f'hx-get="{page_of(release)}/progress"' in page and "Runs in progress" in page
    fragment = await web.get(f"{page_of(release)}/progress")
    assert "HX-Refresh" not in fragment.headers and "case executions recorded" in fragment.text
    run_queued_chunks(session)
    session.flush()
    done = await web.get(f"{page_of(release)}/progress")
    assert done.headers["HX-Refresh"] == "true"


async def test_unknown_things_are_html_404s(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    missing = await web.get("/releases/99999")
    assert missing.status_code == 404 and "no release with id 99999" in missing.text
    assert (await web.get("/products/nope")).status_code == 404
    assert (await web.get("/static/../app.py")).status_code == 404
    assert (await web.get("/static/htmx.min.js")).status_code == 200


async def test_a_failed_release_offers_a_waiver_and_shows_it_in_full(web, world, session):
    olivia = world["users"]["olivia"]
    strict = SuitePublish(spec=suite_spec("strict", expect="words no answer contains"), message="A stricter suite")
    components.publish_suite(session, olivia, "goal-coach", "strict", strict)
    run_queued_chunks(session)
    session.flush()
    release = list_for_product(session, world["release"].product_id, before_number=0, limit=1)[0]
    assert release.state == "failed"
    await sign_in(web, world["tokens"]["olivia"])
    page = (await web.get(f"{page_of(release)}")).text
    assert "Sign off with waiver" in page and "Sign off release" not in page
    assert "below it" in page
    token = CSRF.search(page).group(1)
    # The waiver's rule is on the page before anyone fails it; a refused waiver keeps its text and its error.
    assert 'id="waiver-rule">At least one full sentence' in page
    short = await web.post(f"{page_of(release)}/waive", data={"csrf_token": token, "waiver": "ok fine"})
    assert short.status_code == 422 and ">ok fine</textarea>" in short.text
    assert 'id="waiver-error">a waiver must justify itself' in short.text
    assert 'aria-describedby="waiver-rule waiver-error" aria-invalid=true' in short.text
    waiver = "The strict suite checks wording we have not rolled out yet; HR approved shipping without it."
    done = await web.post(f"{page_of(release)}/waive", data={"csrf_token": token, "waiver": waiver})
    page = (await web.get(done.headers["location"])).text
    assert f"Signed off release {release.number} with a waiver." in page
    assert "<h3>Waiver</h3>" in page and "HR approved shipping without it." in page

    # The reviewer reads the risk first: FAILED · WAIVED and the waiver in full, above the decision.
    await web.post("/sign-out", data={"csrf_token": token})
    await sign_in(web, world["tokens"]["rita"])
    home = (await web.get("/")).text
    queue = home[home.index("Releases awaiting your approval") :]
    assert "FAILED · WAIVED" in queue and f"Waiver by olivia: {waiver}" in queue
    assert "required cases failed" in queue or "strict" in queue
    page = (await web.get(f"{page_of(release)}")).text
    box, decision = page.index('id="checklist"'), page.index('id="decision"')
    assert box < page.index('id="evidence"') < decision and page.index('href="#decision"') < box
    assert "FAILED · WAIVED" in page[box:decision] and waiver in page[box:decision]
    assert "may still approve: ravi, rita" in page[box:decision]
    token = CSRF.search(page).group(1)
    assert 'name="confirm" value="approve-despite-failure" required' in page
    unconfirmed = await web.post(f"{page_of(release)}/approve", data={"csrf_token": token, "note": "Read it."})
    assert unconfirmed.status_code == 422 and ">Read it.</textarea>" in unconfirmed.text
    assert 'id="confirm-error">this release failed its runs or was waived' in unconfirmed.text
    assert "Approvals: 0 of 2" in unconfirmed.text
    confirmed = await web.post(
        f"{page_of(release)}/approve",
        data={"csrf_token": token, "note": "Read it.", "confirm": "approve-despite-failure"},
    )
    assert confirmed.status_code == 303
    approved = (await web.get(confirmed.headers["location"])).text
    assert "Approved release" in approved and "Approvals: 1 of 2" in approved


async def test_a_reviewer_requests_changes_and_the_owner_sees_it_at_home(web, world, session):
    rid = page_of(world["release"])
    decisions.sign_off(session, world["users"]["olivia"], world["release"].id, decisions.SignOffRequest())
    session.flush()
    await sign_in(web, world["tokens"]["rita"])
    page = (await web.get(f"{rid}")).text
    token = CSRF.search(page).group(1)
    short = await web.post(f"{rid}/request-changes", data={"csrf_token": token, "changes": "x"})
    assert short.status_code == 422 and ">x</textarea>" in short.text
    wanted = "Quote clause 14 in the answer about mid-year changes."
    done = await web.post(f"{rid}/request-changes", data={"csrf_token": token, "changes": wanted})
    assert done.status_code == 303
    session.expire_all()
    assert get_release(session, world["release"].id).state == "passed"
    await web.post("/sign-out", data={"csrf_token": token})
    await sign_in(web, world["tokens"]["olivia"])
    home = (await web.get("/")).text
    assert "Changes requested by rita" in home and wanted in home
    assert f"changes requested by rita: {wanted}" in (await web.get(f"{rid}")).text


async def test_regressions_against_the_live_release_come_first(web, world, session):
    olivia = world["users"]["olivia"]
    release = world["release"]
    decisions.sign_off(session, olivia, release.id, decisions.SignOffRequest())
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, world["users"][reviewer], release.id, decisions.ApproveRequest())
    decisions.go_live(session, olivia, release.id)
    suite = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml").suites["goal-coach-quality"]
    spec = copy.deepcopy(suite.spec)
    broken = spec["cases"][-1]
    broken["asserts"] = [*broken.get("asserts", []), {"type": "icontains", "value": "words no answer contains"}]
    components.publish_suite(session, olivia, "goal-coach", "goal-coach-quality", SuitePublish(spec=spec, message="x"))
    run_queued_chunks(session)
    session.flush()
    newest = list_for_product(session, release.product_id, before_number=0, limit=1)[0]
    await sign_in(web, world["tokens"]["olivia"])
    page = (await web.get(f"{page_of(newest)}")).text
    assert "1 regression against the live release." in page
    cases = re.findall(r'<details class="case case-(\w+)">\s*<summary>([^:< ]+)', page)
    assert cases == [("failed", broken["id"])] and "regression (passed in live)" in page
    # The live answer beside the new one; the passing cases collapse into a count; the system prompt shows once.
    assert "Live release's answer (passed)" in page and "This release's answer (failed)" in page
    passed = len(spec["cases"]) - 1
    assert f"{passed} case executions passed" in page
    # once per run (the quality suite's and the fairness suite's)
    assert page.count("The rendered system prompt of this run") == 2 and page.count(">system</span> message") == 0
    # the fairness suite ran offline: its verdict says it cannot show bias, and is no pass
    assert "Fairness across groups: <span" in page and ">cannot-show-bias</span>" in page
    assert "they cannot show bias" in page


async def test_a_malformed_address_is_an_html_page_too(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    for address, field in (("/products/goal-coach/releases/not-a-number", "number"), ("/releases/x", "release_id")):
        response = await web.get(address)
        assert response.status_code == 422 and field in response.text
        assert response.headers["content-type"].startswith("text/html")
    missing = await web.get("/products/goal-coach/releases/99")
    assert missing.status_code == 404 and "product &#39;goal-coach&#39; has no release 99" in missing.text


async def test_an_older_link_by_global_id_leads_to_the_page_by_product_and_number(web, world):
    release = world["release"]
    await sign_in(web, world["tokens"]["olivia"])
    moved = await web.get(f"/releases/{release.id}")
    assert moved.status_code == 301 and moved.headers["location"] == page_of(release)
    fragment = await web.get(f"/releases/{release.id}/progress")
    assert fragment.headers["location"] == f"{page_of(release)}/progress"
    # A form posted to the old address goes on with its method and fields (307), and is checked there.
    token = await csrf_of(web, page_of(release))
    posted = await web.post(f"/releases/{release.id}/signoff", data={"csrf_token": token, "note": "ok"})
    assert posted.status_code == 307 and posted.headers["location"] == f"{page_of(release)}/signoff"
    assert "waiting for the product owner" in (await web.get(page_of(release))).text


async def test_the_owner_re_runs_the_suites_from_the_release_page(web, world, session):
    rid, number = page_of(world["release"]), world["release"].number
    await sign_in(web, world["tokens"]["rita"])
    assert f"Re-run every suite of release {number}" not in (await web.get(f"{rid}")).text
    await web.post("/sign-out", data={"csrf_token": await csrf_of(web, "/")})
    await sign_in(web, world["tokens"]["olivia"])
    page = (await web.get(f"{rid}")).text
    assert f"Re-run every suite of release {number}" in page
    done = await web.post(f"{rid}/rerun", data={"csrf_token": CSRF.search(page).group(1)})
    assert done.status_code == 303
    after = (await web.get(done.headers["location"])).text
    assert "Re-running 2 suite(s)" in after and "testing" in after
    run_queued_chunks(session)
    assert "passed" in (await web.get(f"{rid}")).text


async def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    stolen = web.cookies.get(COOKIE_NAME)
    assert (await web.get("/")).status_code == 200
    csrf = await csrf_of(web, "/")
    await web.post("/sign-out", data={"csrf_token": csrf})
    web.cookies.set(COOKIE_NAME, stolen, domain="steward.test")
    response = await web.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


async def test_a_release_id_beyond_what_a_database_holds_is_a_404_page(web, world):
    await sign_in(web, world["tokens"]["olivia"])
    response = await web.get(f"/releases/{2**63}")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]


async def test_why_it_changed_names_the_compared_release_and_links_the_one_that_superseded_it(web, world, session):
    olivia, paula = world["users"]["olivia"], world["users"]["paula"]
    release = world["release"]
    first = list_for_product(session, release.product_id, before_number=release.number, limit=1)[0]
    await sign_in(web, world["tokens"]["rita"])
    page = (await web.get(f"{page_of(release)}")).text
    assert f'<a href="{page_of(first)}">release {first.number}</a>, live now' in page
    # Every version behind the release with its author and message, not only the last cause.
    assert f"document {POLICY} v2</strong> by paula" in page
    document = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml").documents[POLICY]
    newer = {**document.model_dump(), "content": document.content + "\n\n15. Goals are reviewed each quarter.\n"}
    components.publish_document(session, paula, POLICY, DocumentPublish(**{**newer, "message": "Quarterly reviews"}))
    session.flush()
    newest = list_for_product(session, release.product_id, before_number=0, limit=1)[0]
    page = (await web.get(f"{page_of(release)}")).text
    assert f'<dt>Superseded by</dt><dd><a href="{page_of(newest)}">release {newest.number}</a>' in page
    page = (await web.get(f"{page_of(newest)}")).text
    assert "Quarterly reviews" in page and f"document {POLICY} v3</strong> by paula" in page
    assert f"document {POLICY} v2</strong> by paula" in page
    # Once live, a release keeps the diff it went live on: against the release it replaced.
    run_queued_chunks(session)
    decisions.sign_off(session, olivia, newest.id, decisions.SignOffRequest())
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, world["users"][reviewer], newest.id, decisions.ApproveRequest())
    decisions.go_live(session, olivia, newest.id)
    session.flush()
    page = (await web.get(f"{page_of(newest)}")).text
    assert f"release {first.number}</a>, which it replaced when it went live" in page
    assert "15. Goals are reviewed each quarter." in page


async def test_change_summaries_keep_their_spaces_and_name_the_model_once(web, world, session):
    olivia = world["users"]["olivia"]
    model = {"provider": "offline", "name": "coach-2", "temperature": 0.1}
    update_product(session, olivia, "goal-coach", ProductUpdate(model=model))
    session.flush()
    newest = list_for_product(session, get_product(session, "goal-coach").id, before_number=0, limit=1)[0]
    await sign_in(web, world["tokens"]["olivia"])
    text = re.sub(r"<[^>]+>", "", (await web.get(page_of(newest))).text)
    words = " ".join(text.split())
    # The template trims whitespace around its tags: the space before the line counts is written out.
    assert re.search(r"v1 → v2 \(\+\d+ / \u2212\d+ lines\)", words), words  # a minus sign, as the page writes it
    assert "model: changed" in words and "model model" not in words
