"""The README is the front door: a setting or an endpoint that it does not mention fails the build."""

from __future__ import annotations

import re

from service.app import create_app
from service.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text()


def test_every_setting_is_documented():
    missing = [f"STEWARD_{name.upper()}" for name in Settings.model_fields if f"STEWARD_{name.upper()}" not in README]
    assert missing == []


def test_every_endpoint_is_documented():
    app = create_app(Settings(database_url="sqlite://"))
    documented = set(re.findall(r"`(?:[A-Z]+ )?(/[^`\s?]*)", README))
    # History endpoints exist for every component kind and are documented once, generically.
    generic = {
        "/versions": "/versions`",
        "/versions/{number}": "…/versions/{number}`",
        "/diff": "…/diff",
        "/live": "…/{name-or-slug}/live`",
    }
    missing = []
    for path in app.openapi()["paths"]:
        short = path.removeprefix("/api/v1")
        if short in documented:
            continue
        if any(short.endswith(suffix) and marker in README for suffix, marker in generic.items()):
            continue
        missing.append(path)
    assert missing == []


def test_both_front_door_commands_are_in_the_makefile():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make run" in README and "make test" in README
