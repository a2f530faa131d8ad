"""The weight of a 200-case release page: bytes and DOM elements, as a reviewer loads it.

Seeds the demo into a fresh SQLite database, publishes a 200-case version of the reference product's suite
(every 10th case made to fail, so the page carries failures, passes and a regression-free tail), runs it on
the offline provider through the worker's code path, and fetches the release page signed in as a reviewer.

    .venv/bin/python bench/release_page_weight.py [--cases 200]
"""

from __future__ import annotations

import argparse
import copy
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from governance.accounts.users import get_user
from governance.audit.sealing import ChainKey, install_chain_key
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import SuitePublish
from governance.releases.reading import latest_release
from service.app import create_app
from service.bundle import load_bundle
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.seed import seed_demo
from service.settings import PROJECT_ROOT, Settings
from service.workers.execute import execute_chunk, new_worker_id

STEWARD_YAML = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"
SUITE = "goal-coach-quality"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--save", help="write the page's HTML to this file")
    args = parser.parse_args()
    cases = args.cases
    install_chain_key(ChainKey.derive(b"release_page_weight bench"))
    folder = Path(tempfile.mkdtemp(prefix="steward-page-weight-"))
    url = f"sqlite:///{folder / 'steward.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, var_dir=folder / "var", executor="none")
    with unit_of_work(engine) as session:
        tokens = seed_demo(session, STEWARD_YAML).tokens
    spec = copy.deepcopy(load_bundle(STEWARD_YAML).suites[SUITE].spec)
    originals = spec["cases"]
    spec["cases"] = []
    for index in range(cases):
        case = copy.deepcopy(originals[index % len(originals)])
        case["id"] = f"{case['id']}-{index}"
        case.pop("required", None)
        if index % 10 == 0:
            case["asserts"] = [*case.get("asserts", []), {"type": "icontains", "value": "words no answer contains"}]
        spec["cases"].append(case)
    with unit_of_work(engine) as session:
        olivia = get_user(session, "olivia")
        components.publish_suite(session, olivia, "goal-coach", SUITE, SuitePublish(spec=spec, message="200 cases"))
    worker = new_worker_id()
    while execute_chunk(engine, None, worker, settings):
        pass
    with unit_of_work(engine) as session:
        release = latest_release(session, get_product(session, "goal-coach"))
        assert release is not None
        release_id, state = release.id, release.state
    with TestClient(create_app(settings, engine=make_engine(url))) as client:
        csrf = CSRF.search(client.get("/sign-in").text)
        assert csrf is not None
        client.post("/sign-in", data={"csrf_token": csrf.group(1), "token": tokens["rita"], "next": "/"})
        page = client.get(f"/releases/{release_id}")
    elements = Elements()
    elements.feed(page.text)
    if args.save:
        Path(args.save).write_text(page.text)
    print(f"release {release_id} ({state}), {cases} cases: {len(page.content):,} bytes, {elements.count:,} elements")


if __name__ == "__main__":
    main()
