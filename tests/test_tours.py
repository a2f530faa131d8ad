"""Every command of the README's tour and of the reference product's README runs, as written, in this test.

The commands are taken from the Markdown itself (every ``sh`` block of the tour section), run by bash in a
directory laid out like a checkout (``prompts/``, ``.venv/``, ``var/``) against a real ``steward serve``
seeded by ``steward demo``. Only the address is changed, to a free port. Between blocks the test waits for
queued runs to finish, as a reader does between paragraphs.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

WAIT_FOR_RUNS = """
python3 - "$API" "$OLIVIA" <<'PY'
import json, sys, time, urllib.request
api, token = sys.argv[1], sys.argv[2]
def get(path):
    request = urllib.request.Request(f"http://{api}{path}", headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(request))
for _ in range(600):
    pending = get("/products/goal-coach")["pending_release"]
    if pending is None or get(f"/releases/{pending}")["state"] != "testing":
        break
    time.sleep(0.1)
PY
"""


def sh_blocks(markdown: str, start: str, end: str | None = None) -> list[str]:
    section = markdown.split(start, 1)[1]
    if end is not None:
        section = section.split(end, 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A working directory shaped like the repository, with the demo seeded and a server on a free port."""
    work = tmp_path / "checkout"
    work.mkdir()
    (work / "prompts").symlink_to(PROJECT_ROOT / "prompts")
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return work


@pytest.fixture
def server(checkout: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "STEWARD_DATABASE_URL": f"sqlite:///{checkout / 'var' / 'steward.db'}",
        "STEWARD_VAR_DIR": str(checkout / "var"),
        "STEWARD_PORT": str(port),
        "PATH": f"{checkout / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    steward = str(checkout / ".venv" / "bin" / "steward")
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run([steward, *command], env=env, cwd=checkout, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    process = subprocess.Popen(
        [steward, "serve"], env=env, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield port, env
    process.terminate()
    process.wait(timeout=30)


def run(script: str, port: int, env: dict[str, str], cwd: Path) -> str:
    script = script.replace("localhost:8000", f"localhost:{port}").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    done = subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    return done.stdout + done.stderr


def test_the_readme_tour_and_the_reference_products_commands_run_as_written(checkout, server):
    port, env = server
    tokens = "tok() { python3 -c \"import json; print(json.load(open('var/demo-tokens.json'))['$1'])\"; }\n"
    product_readme = (PROJECT_ROOT / "prompts" / "goal_coach" / "README.md").read_text()
    commands = sh_blocks(product_readme, "## Changing the product")
    assert len(commands) == 2
    placeholders = tokens + "T=$(tok olivia) URL=http://127.0.0.1:8000\n"
    output = run(
        placeholders + "\n".join(c.replace("URL", "$URL").replace("--token T", "--token $T") for c in commands),
        port,
        env,
        checkout,
    )
    assert "goal-coach-quality: PASSED" in output, output
    assert "Nothing to do" in output, output  # the demo published exactly these files

    readme = (PROJECT_ROOT / "README.md").read_text()
    blocks = sh_blocks(readme, "## A five-minute tour", "## The web app")
    assert len(blocks) == 6
    output = run(("\n" + WAIT_FOR_RUNS + "\n").join(blocks), port, env, checkout)
    assert output.count('"status":"compliant"') == 2, output
    assert "process:goal-setting" in output and "document:performance-management-policy" in output
    assert '"state":"passed"' in output and '"to_version":2' in output
    assert "approving a release" in output  # Olivia's own approval: 403 naming the rule
    assert '"state":"live"' in output and '"ok":true' in output
    assert "! document performance-management-policy: conflict" in output
    assert "+++ performance-management-policy@bundle" in output
    assert "-14. Goals may be revised at the mid-year check-in." in output
    assert "goal-coach-quality: PASSED" in output
    assert (checkout / "report.md").exists() and (checkout / "report.xml").exists()
