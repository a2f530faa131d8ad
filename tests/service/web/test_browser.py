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
from governance.catalog import components, products
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish, ModelSettings, ProductCreate, SuitePublish
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

    def __init__(self, browser, world: World, name: str, *, bypass_csp: bool = False):
        self.name, self.world = name, world
        # bypass_csp lets a test inject axe-core as a script of the page, which the server's policy forbids.
        self.context = browser.new_context(
            base_url=world.base_url, viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp
        )
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

    # The release also shows under "Waiting on others" (for the runs to finish): the row's link leads to the product.
    expect(olivia.page.locator("#waiting-list")).to_contain_text("waiting for the runs to finish")
    row.get_by_role("link", name="Goal-setting coach").click()
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


# Every page the layout and accessibility checks visit, as the signed-in owner; "{release}" is the newest
# release of the reference product. One list: a new page is one more line here.
PAGES = [
    "/",
    "/?page=2",
    "/?q=goal&sort=risk",
    "/products/goal-coach",
    "/products/goal-coach/releases/{release}",
    "/products/goal-coach/releases/{release}/technical-file",
    "/products/goal-coach/releases/1/technical-file?with={release}",
    "/products/goal-coach/prompts/system",
    "/products/goal-coach/suites/goal-coach-quality",
    f"/documents/{POLICY}",
    f"/documents/{POLICY}?a=1&b=2",
    "/processes/goal-setting",
    f"/impact?component=document:{POLICY}",
    "/audit",
    "/audit?product=goal-coach&actor=paula",
    "/audit/verify",
]
NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
AXE = PROJECT_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MANY_PRODUCTS = 250


def add_products(world: World, count: int) -> None:
    with unit_of_work(world.engine) as session:
        olivia = get_by_name(session, "olivia")
        for index in range(count):
            data = ProductCreate(
                slug=f"hr-assistant-{index:03d}",
                name=f"HR assistant {index:03d}",
                risk_tier=("minimal", "limited", "high")[index % 3],
                model=ModelSettings(provider="offline", name="coach"),
            )
            products.create_product(session, olivia, data)


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA rules on the page as it is now: one line per rule broken, with where."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).slice(0, 5)}`)",
        WCAG_21_AA,
    )
    return list(found)


def test_every_page_fits_390_px_and_passes_axe_with_250_products(browser, world):
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (make browser-deps runs npm ci in tests/browser)")
    add_products(world, MANY_PRODUCTS)
    # The one page anyone sees before signing in.
    visitor = Person(browser, world, "visitor", bypass_csp=True)
    signed_out = check_pages(visitor, ["/sign-in"])
    visitor.close()
    olivia = Person(browser, world, "olivia", bypass_csp=True)
    olivia.sign_in()
    home = olivia.page
    expect(home.locator("#product-count")).to_contain_text(f"{MANY_PRODUCTS + 1} products; page 1 of 6")
    expect(home.locator("tr[data-product]")).to_have_count(50)
    home.get_by_role("navigation", name="Product pages").get_by_role("link", name="6", exact=True).click()
    expect(home.locator("tr[data-product]")).to_have_count(MANY_PRODUCTS + 1 - 250)
    home.get_by_label("Search name, slug or owner").fill("assistant 12")
    home.get_by_label("Sort by").select_option("risk")
    home.get_by_role("button", name="Show").click()
    expect(home.locator("tr[data-product]")).to_have_count(10)
    tiers = home.locator("tr[data-product] td[data-label='Risk tier']").all_inner_texts()
    assert tiers == sorted(tiers, key=["high", "limited", "minimal"].index), tiers
    olivia.shot("home-search-sorted-by-risk")

    # Keyboard focus on the header rings it in a colour that stands out from the header by at least 3:1.
    home.goto("/impact")
    home.keyboard.press("Tab")  # the skip link
    home.keyboard.press("Tab")  # the brand link, on the header
    ring, header = home.evaluate(
        "[getComputedStyle(document.activeElement).outlineColor,"
        " getComputedStyle(document.querySelector('header.top')).backgroundColor]"
    )
    assert home.evaluate("document.activeElement.className") == "brand"
    assert contrast(ring, header) >= 3, (ring, header, contrast(ring, header))

    release = world.newest_release_number()
    problems = signed_out + check_pages(olivia, [path.format(release=release) for path in PAGES])
    # A reviewer's home carries the approval queue with each release's risk line (ravi has not yet decided on the
    # waived release when the tests run in order; alone, this test finds the queue empty and checks the page anyway).
    ravi = Person(browser, world, "ravi", bypass_csp=True)
    ravi.sign_in()
    problems += check_pages(ravi, ["/"])
    assert problems == [], "\n".join(problems)
    olivia.close()
    ravi.close()


def check_pages(person: Person, urls: list[str]) -> list[str]:
    """Each page at 390 px (no sideways scrolling) and at 1280 px, through axe-core; screenshots of both."""
    problems: list[str] = []
    page = person.page
    for size, label in ((NARROW, "390px"), (WIDE, "1280px")):
        page.set_viewport_size(size)
        for url in urls:
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            if size is NARROW and width > NARROW["width"]:
                problems.append(f"{url} at 390 px scrolls sideways for {person.name}: {width} px wide")
            problems += [f"{url} at {label} for {person.name}: {v}" for v in axe_violations(page)]
            person.shot(f"{label}-{re.sub(r'[^a-z0-9]+', '-', url).strip('-') or 'home'}")
    return problems
