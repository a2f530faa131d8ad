"""The reference product's journey in a real browser: Debian's Chromium driven by Playwright against uvicorn.

A policy change puts the live goal-setting coach back into revalidation; the owner watches the runs finish
(htmx polling), reads the policy diff and the evidence, signs off; two independent reviewers approve (the
owner is never offered the approve button); the owner takes it live and home shows it compliant. Every page
is screenshotted to test-output/browser/ and must log no console error.
"""

from __future__ import annotations

import copy
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from governance.accounts.repository import get_by_name
from governance.audit.sealing import install_chain_key
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish, SuitePublish
from governance.releases.repository import list_for_product
from governance.review import decisions
from service.app import create_app
from service.bundle import load_bundle
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.secret_key import audit_chain_key
from service.seed import seed_demo
from service.settings import PROJECT_ROOT, Settings
from tests.conftest import TEST_SERVER_SECRET
from tests.inline_worker import run_queued_chunks

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium; .ci/run does this)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
expect = sync_api.expect

pytestmark = pytest.mark.slow

STEWARD_YAML = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"
POLICY = "performance-management-policy"
SHOTS = PROJECT_ROOT / "test-output" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def publish_policy_change(session, clause: str) -> None:
    document = load_bundle(STEWARD_YAML).documents[POLICY]
    changed = {**document.model_dump(), "content": document.content + f"\n\n{clause}\n"}
    components.publish_document(session, get_by_name(session, "paula"), POLICY, DocumentPublish(**changed))


def take_first_release_live(session) -> None:
    """What happened before the story starts: release 1 went through the whole loop."""
    run_queued_chunks(session)
    product = get_product(session, "goal-coach")
    release = list_for_product(session, product.id, before_number=0, limit=1)[0]
    olivia = get_by_name(session, "olivia")
    decisions.sign_off(session, olivia, release.id, decisions.SignOffRequest(note="First release."))
    for reviewer in ("rita", "ravi"):
        decisions.approve(session, get_by_name(session, reviewer), release.id, decisions.ApproveRequest())
    decisions.go_live(session, olivia, release.id)


class World:
    def __init__(self, base_url: str, engine, tokens: dict[str, str]):
        self.base_url, self.engine, self.tokens = base_url, engine, tokens

    def run_queued(self) -> int:
        with unit_of_work(self.engine) as session:
            return run_queued_chunks(session)

    def newest_release_number(self) -> int:
        """The number people quote (the web app's addresses use it)."""
        return self._newest_release()[1]

    def newest_release_id(self) -> int:
        """The global id (the domain functions take it)."""
        return self._newest_release()[0]

    def _newest_release(self) -> tuple[int, int]:
        with unit_of_work(self.engine) as session:
            product = get_product(session, "goal-coach")
            newest = list_for_product(session, product.id, before_number=0, limit=1)[0]
            return newest.id, newest.number


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    import uvicorn

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'steward.db'}"
    upgrade(url)
    engine = make_engine(url)
    # Runs are executed by the test (run_queued), so the server starts no executor of its own. The story before
    # the server starts is sealed with the key the server and every test's chain_key fixture use.
    secret = SecretStr(TEST_SERVER_SECRET)
    settings = Settings(database_url=url, var_dir=folder / "var", executor="none", secret_key=secret)
    install_chain_key(audit_chain_key(settings))
    with unit_of_work(engine) as session:
        tokens = seed_demo(session, STEWARD_YAML).tokens
    with unit_of_work(engine) as session:
        take_first_release_live(session)
    with unit_of_work(engine) as session:
        publish_policy_change(session, "14. Goals may be revised at mid-year, with the manager's agreement.")
    app = create_app(settings, engine=make_engine(url))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield World(f"http://127.0.0.1:{port}", engine, tokens)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Person:
    """One user in a browser context of their own; every page they see is screenshotted and checked for errors."""

    counter = 0

    def __init__(self, browser, world: World, name: str):
        self.name, self.world = name, world
        self.context = browser.new_context(base_url=world.base_url, viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.page = self.watch(self.context.new_page())

    def watch(self, page):
        page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return page

    def shot(self, label: str, page=None) -> None:
        page = page or self.page
        Person.counter += 1
        page.screenshot(path=str(SHOTS / f"{Person.counter:02d}-{self.name}-{label}.png"), full_page=True)
        assert self.errors == [], f"console errors on {page.url}: {self.errors}"

    def sign_in(self) -> None:
        self.page.goto("/")
        expect(self.page).to_have_url(re.compile(r"/sign-in\?next=/$"))
        self.page.get_by_label("API token").fill(self.world.tokens[self.name])
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("status")).to_contain_text(f"Signed in as {self.name}")

    def close(self) -> None:
        self.context.close()


def button(page, name: str):
    return page.get_by_role("button", name=re.compile(name))


def test_policy_change_to_compliant_in_the_browser(browser, world):
    olivia = Person(browser, world, "olivia")
    olivia.sign_in()
    row = olivia.page.locator("tr[data-product=goal-coach]")
    expect(row.locator(".status")).to_have_text("revalidation required")
    expect(row).to_contain_text("due ")
    expect(row).to_contain_text("high")
    olivia.shot("home-revalidation-required")

    olivia.page.get_by_role("link", name="Goal-setting coach").first.click()
    expect(olivia.page.get_by_role("heading", name="Dependency graph")).to_be_visible()
    expect(olivia.page.locator("svg")).to_contain_text("process: goal-setting")
    olivia.shot("product")

    number = world.newest_release_number()
    release_page = f"/products/goal-coach/releases/{number}"
    olivia.page.goto(release_page)
    expect(olivia.page.locator("h1")).to_contain_text("testing")
    expect(olivia.page.locator("#progress")).to_contain_text("case executions recorded")
    olivia.shot("release-testing")
    assert world.run_queued() > 0
    # htmx polls the progress fragment; once the runs are done the server asks for a reload.
    expect(olivia.page.locator("h1")).to_contain_text("passed", timeout=15_000)
    policy = olivia.page.locator(f"#change-document-{POLICY}")
    expect(policy.locator("ins").filter(has_text="14. Goals may be revised at mid-year")).to_have_count(1)
    evidence = olivia.page.locator("article.run").first
    expect(evidence).to_contain_text("meets it")
    expect(evidence).to_contain_text("offline provider")
    # Every case passed: they collapse into a count, each listed with its description.
    evidence.locator("details.passed-cases summary").click()
    expect(evidence.locator("details.passed-cases[open]")).to_contain_text("case executions passed")
    expect(button(olivia.page, "Approve")).to_have_count(0)
    olivia.shot("release-passed-diff-and-evidence")
    olivia.page.get_by_label("What you checked (optional)").fill("The mid-year clause is reflected; runs pass.")
    button(olivia.page, "Sign off release").click()
    expect(olivia.page.get_by_role("status")).to_contain_text("Signed off release")
    expect(olivia.page.locator("#held-by")).to_contain_text("0 of 2")
    olivia.shot("release-signed-off")

    rita = Person(browser, world, "rita")
    rita.sign_in()
    rita.page.get_by_role("link", name=re.compile(r"Goal-setting coach, release \d+")).click()
    expect(button(rita.page, "Approve release")).to_be_visible()
    # A second tab of the same page goes stale once rita approves in the first.
    stale = rita.watch(rita.context.new_page())
    stale.goto(release_page)
    rita.shot("release-reviewer-approve-button")
    rita.page.get_by_label("What you checked (optional)").fill("Evidence and diff reviewed.")
    button(rita.page, "Approve release").click()
    expect(rita.page.get_by_role("status")).to_contain_text("Approved release")
    expect(rita.page.locator("#held-by")).to_contain_text("1 of 2")
    rita.shot("release-one-approval")
    button(stale, "Approve release").click()
    expect(stale.get_by_role("alert")).to_contain_text(
        f"Refused: rita has already decided on release {number} of 'goal-coach'"
    )
    rita.shot("refused-action", stale)

    olivia.page.reload()
    expect(olivia.page.locator("#held-by")).to_contain_text("1 of 2")
    expect(button(olivia.page, "Approve")).to_have_count(0)
    expect(olivia.page.locator(".why-not")).to_contain_text("requires the role reviewer")
    olivia.shot("owner-has-no-approve-button")

    ravi = Person(browser, world, "ravi")
    ravi.sign_in()
    ravi.page.goto(release_page)
    button(ravi.page, "Approve release").click()
    expect(ravi.page.locator("h1")).to_contain_text("approved")
    ravi.shot("release-approved")

    olivia.page.reload()
    button(olivia.page, "Take release").click()
    expect(olivia.page.get_by_role("status")).to_contain_text("is live")
    expect(olivia.page.locator("h1")).to_contain_text("live")
    olivia.shot("release-live")
    olivia.page.get_by_role("link", name="Home").click()
    expect(olivia.page.locator("tr[data-product=goal-coach] .status")).to_have_text("compliant")
    olivia.shot("home-compliant")

    # A form posted without the CSRF token is refused and changes nothing.
    forged = olivia.context.request.post(f"{release_page}/go-live", form={"note": "x"}, max_redirects=0)
    assert forged.status == 403 and "CSRF" in forged.text()
    for person in (olivia, rita, ravi):
        person.close()


def test_impact_and_audit_pages_in_the_browser(browser, world):
    paula = Person(browser, world, "paula")
    paula.sign_in()
    paula.page.get_by_role("link", name="Impact").click()
    paula.page.get_by_label("Document or process").select_option(f"document:{POLICY}")
    paula.page.get_by_role("button", name="Show impact").click()
    expect(paula.page.get_by_role("table")).to_contain_text("goal-coach → process:goal-setting → document:" + POLICY)
    paula.shot("impact")
    paula.page.get_by_role("link", name="Audit").click()
    paula.page.get_by_role("button", name="Verify the chain now").click()
    expect(paula.page.locator(".chain-ok")).to_contain_text("Chain verified")
    paula.shot("audit-chain-verified")
    paula.page.get_by_role("link", name="Back to the audit log").click()
    paula.page.get_by_label("Actor").select_option(label=option_label(paula.page, "#f-actor", "Paula Policy"))
    paula.page.get_by_role("button", name="Filter").click()
    expect(paula.page.locator("table.audit")).to_contain_text("document.published")
    paula.shot("audit")
    paula.page.get_by_role("button", name="Sign out").click()
    expect(paula.page.get_by_role("status")).to_contain_text("signed out")
    paula.shot("signed-out")
    paula.close()


def option_label(page, select: str, starts: str) -> str:
    """The full label of the drop-down option a person picks by the start of its text."""
    labels = [text.strip() for text in page.locator(f"{select} option").all_text_contents()]
    return next(label for label in labels if label.startswith(starts))


def test_history_pages_and_the_audit_log_in_the_browser(browser, world):
    """From the product's components to the policy's history, two versions side by side, then the audit log."""
    paula = Person(browser, world, "paula")
    paula.sign_in()
    paula.page.goto("/products/goal-coach")
    row = paula.page.locator(f"tr[data-component='document:{POLICY}']")
    expect(row).to_contain_text("via process goal-setting")
    row.get_by_role("link", name=POLICY).click()
    expect(paula.page.locator("h1")).to_contain_text(f"Document {POLICY}")
    versions = paula.page.locator("table.versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Paula Policy")
    # Release 1 holds v1; once the first journey took release 2 live, v2 is the live one.
    live = re.compile(r"live in goal-coach \(release \d+\)")
    expect(paula.page.locator("table.versions .live-mark")).to_have_count(1)
    expect(paula.page.locator("table.versions .live-mark")).to_contain_text(live)
    expect(versions.first.locator("code.hash")).to_have_attribute("title", re.compile(r"^[0-9a-f]{64}$"))
    # The script shows the copy button; the page works without it.
    expect(versions.first.get_by_role("button", name=re.compile("Copy the sha256 of v2"))).to_be_visible()
    paula.page.get_by_label("Older (left)").select_option("v2")
    paula.page.get_by_label("Newer (right)").select_option("v1")
    paula.page.get_by_role("button", name="Compare").click()
    expect(paula.page).to_have_url(re.compile(r"\?a=2&b=1"))
    side = paula.page.get_by_role("region", name="v2 and v1 side by side")
    expect(side.locator("tr.sbs-removed td.old").filter(has_text="14. Goals may be revised at mid-year")).to_have_count(
        1
    )
    paula.shot("document-history-side-by-side")

    paula.page.get_by_role("link", name="Audit").click()
    seqs = [
        int(i.removeprefix("event-"))
        for i in paula.page.locator("table.audit > tbody > tr").evaluate_all("rows => rows.map(row => row.id)")
    ]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 3
    paula.page.get_by_label("Actor").select_option(label=option_label(paula.page, "#f-actor", "Paula Policy"))
    paula.page.get_by_label("Action").select_option("document.published")
    paula.page.get_by_role("button", name="Filter").click()
    entries = paula.page.locator("table.audit > tbody > tr")
    expect(entries.first).to_contain_text("Paula Policy")
    expect(entries.first.get_by_role("link", name=f"document {POLICY} v2")).to_be_visible()
    expect(entries.first.locator("table.fields")).to_contain_text("version")
    paula.shot("audit-filtered-by-display-name")
    entries.first.get_by_role("link", name=f"document {POLICY} v2").click()
    expect(paula.page).to_have_url(re.compile(rf"/documents/{POLICY}#v2$"))
    paula.close()


WAIVER = "The strict wording suite checks phrasing HR has not rolled out yet; the works council agreed to ship."


def test_a_failed_release_signed_off_with_a_waiver_puts_the_risk_first_for_the_reviewer(browser, world):
    with unit_of_work(world.engine) as session:
        olivia = get_by_name(session, "olivia")
        spec = suite_spec_that_fails()
        components.publish_suite(session, olivia, "goal-coach", "strict-wording", SuitePublish(spec=spec, message="x"))
    world.run_queued()
    release_id = world.newest_release_id()
    with unit_of_work(world.engine) as session:
        decisions.sign_off(session, get_by_name(session, "olivia"), release_id, decisions.SignOffRequest(waiver=WAIVER))

    rita = Person(browser, world, "rita")
    rita.sign_in()
    row = rita.page.locator("ul.tasks li").filter(has_text=re.compile(r"Goal-setting coach, release \d+"))
    expect(row).to_contain_text("FAILED · WAIVED")
    expect(row).to_contain_text(WAIVER)
    rita.shot("queue-failed-waived")
    row.get_by_role("link", name=re.compile(r"Goal-setting coach, release \d+")).click()
    box = rita.page.locator("section.checklist")
    expect(box).to_contain_text("FAILED · WAIVED")
    expect(box).to_contain_text(WAIVER)
    expect(box).to_contain_text("offline provider")
    # The summary box comes before the evidence, and the decision after it.
    order = rita.page.evaluate(
        "['checklist', 'evidence', 'decision'].map(id => document.getElementById(id).getBoundingClientRect().top)"
    )
    assert order == sorted(order), order
    rita.shot("release-failed-waived-summary")
    rita.page.get_by_role("link", name=re.compile("Jump to your decision")).click()
    expect(rita.page).to_have_url(re.compile("#decision$"))
    confirm = rita.page.get_by_role("checkbox", name=re.compile("approve it anyway"))
    expect(confirm).to_be_visible()
    expect(rita.page.locator("label[for=confirm]")).to_contain_text(WAIVER)
    rita.page.get_by_label("What you checked (optional)").fill("Read the waiver and the failed cases.")
    # Without the confirmation the browser does not submit (no JavaScript involved: the field is required).
    button(rita.page, "Approve release").click()
    expect(rita.page.locator("#held-by")).to_contain_text("0 of 2")
    rita.shot("release-approve-asks-confirmation")
    confirm.check()
    button(rita.page, "Approve release").click()
    expect(rita.page.get_by_role("status")).to_contain_text("Approved release")
    expect(rita.page.get_by_role("status")).to_be_focused()
    expect(rita.page.locator("#held-by")).to_contain_text("1 of 2")
    rita.shot("release-approved-despite-failure")
    rita.close()


def suite_spec_that_fails() -> dict:
    """The reference suite's first case, required and held to words no answer contains."""
    spec = copy.deepcopy(load_bundle(STEWARD_YAML).suites["goal-coach-quality"].spec)
    case = spec["cases"][0]
    case.update(id="names-the-policy", description="Names the performance-management policy by its title")
    case.update(tags=["policy"], required=True)
    case["asserts"] = [*case.get("asserts", []), {"type": "icontains", "value": "words no answer contains"}]
    return {**spec, "name": "strict-wording", "cases": [case]}
