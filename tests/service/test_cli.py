"""The CLI: bootstrap users, seed the demo, and apply a steward.yaml to a live server over HTTP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from governance.accounts import users as accounts
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.catalog import components, products
from service.app import create_app
from service.cli import app as cli
from service.cli.users import RoleName
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import PROJECT_ROOT, Settings, get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Settings:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    monkeypatch.setenv("STEWARD_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_db_upgrade_then_users_create_prints_a_working_token(env):
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["users", "create", "ada", "--role", "admin", "--role", "reviewer"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with unit_of_work(make_engine(env.database_url)) as session:
        assert accounts.authenticate(session, token).roles == ["admin", "reviewer"]
    again = runner.invoke(cli, ["users", "create", "ada", "--role", "admin"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(cli, ["users", "create", "Not Valid", "--role", "admin"])
    assert bad.exit_code == 2 and "name" in bad.output


def test_demo_seeds_once_and_prints_the_same_tokens_again(env):
    upgrade(env.database_url)
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "Seeded" in first.output
    tokens_file = env.var_dir / "demo-tokens.json"
    assert tokens_file.stat().st_mode & 0o777 == 0o600
    second = runner.invoke(cli, ["demo"])
    assert second.exit_code == 0 and "Seeded" not in second.output
    import json

    tokens = json.loads(tokens_file.read_text())
    assert set(tokens) >= {"ada", "olivia", "rita", "ravi", "ci-bot"}
    assert tokens["olivia"] in second.output.replace("\n", "").replace(" ", "").replace("│", "")
    with unit_of_work(make_engine(env.database_url)) as session:
        assert accounts.authenticate(session, tokens["olivia"]).name == "olivia"


@pytest.fixture
def live_server(tmp_path: Path):
    """The real app under uvicorn on a free loopback port, with one product owner."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    with unit_of_work(make_engine(url)) as session:
        _, token = accounts.create_user(session, None, UserCreate(name="olivia", roles=[Role.product_owner]))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(Settings(database_url=url)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token
    server.should_exit = True
    thread.join(timeout=10)


def test_apply_publishes_once_then_reports_nothing_to_do(live_server, tmp_path):
    server, token = live_server
    bundle = tmp_path / "goal_coach"
    shutil.copytree(PROJECT_ROOT / "prompts" / "goal_coach", bundle)
    args = ["apply", "-f", str(bundle / "steward.yaml"), "--server", server, "--token", token]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "product goal-coach" in first.output
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "Nothing to do" in second.output and "created" not in second.output

    policy = bundle / "documents" / "performance-management-policy.md"
    policy.write_text(policy.read_text() + "\nA new clause.\n")
    third = runner.invoke(cli, [*args, "-m", "Add a clause"])
    assert third.exit_code == 0, third.output
    assert "updated document performance-management-policy (version 2)" in third.output
    assert "1 change(s) applied in one transaction" in third.output and "goal-coach release 2 (testing)" in third.output


def test_apply_refuses_a_suite_that_would_not_render_naming_the_case(live_server, tmp_path):
    server, token = live_server
    bundle = tmp_path / "goal_coach"
    shutil.copytree(PROJECT_ROOT / "prompts" / "goal_coach", bundle)
    suite = bundle / "suites" / "goal-coach-quality.yaml"
    text = suite.read_text()
    suite.write_text(text.replace("      employee_message:", "      employee_mesage:", 1))
    args = ["apply", "-f", str(bundle / "steward.yaml"), "--server", server, "--token", token, "--dry-run"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "problem: suites[0].spec.cases[0].vars: case vague-goal-smart-rewrite: " in result.output
    assert "'employee_message' is undefined (did you mean 'employee_mesage'?) (422)" in result.output
    assert "applying would write nothing" in result.output


def test_apply_explains_refusals_and_bad_files(live_server, tmp_path):
    server, token = live_server
    bad = tmp_path / "steward.yaml"
    bad.write_text("version: 1\nproduct:\n  slug: Bad Slug\n")
    result = runner.invoke(cli, ["apply", "-f", str(bad), "--server", server, "--token", token])
    assert result.exit_code == 2 and "product.slug" in result.output
    # Messages print as they are: a pattern is not rich markup, and a CI log is not wrapped at 80 columns.
    assert "^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$" in result.output
    assert any(len(line) > 100 and "product.slug" in line for line in result.output.splitlines())
    missing = runner.invoke(cli, ["apply", "-f", "nope.yaml", "--server", server, "--token", token])
    assert missing.exit_code == 2 and "no such file nope.yaml" in missing.output
    refused = runner.invoke(
        cli,
        [
            "apply",
            "-f",
            str(PROJECT_ROOT / "prompts/goal_coach/steward.yaml"),
            "--server",
            server,
            "--token",
            "stw_wrong",
        ],
    )
    assert refused.exit_code == 1 and "401" in refused.output


def test_eval_run_with_a_bundle_runs_the_suite_as_the_server_would(tmp_path, env):
    junit = tmp_path / "report.xml"
    result = runner.invoke(
        cli,
        [
            "eval",
            "run",
            str(PROJECT_ROOT / "prompts/goal_coach/suites/goal-coach-quality.yaml"),
            "--bundle",
            str(PROJECT_ROOT / "prompts/goal_coach/steward.yaml"),
            "--no-cache",
            "--junit",
            str(junit),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output and "OFFLINE" in result.output
    assert 'tests="22"' in junit.read_text()


def test_demo_launches_the_reference_product_through_the_real_loop(env):
    upgrade(env.database_url)
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    from governance.audit.reading import verify_chain
    from governance.catalog.products import get_product
    from governance.releases.status import product_view

    with unit_of_work(make_engine(env.database_url)) as session:
        view = product_view(session, get_product(session, "goal-coach"))
        assert view.status == "compliant" and view.live_release is not None
        assert verify_chain(session).ok


def test_ci_applies_merged_prompt_changes_of_a_product_it_does_not_own(live_server, tmp_path):
    server, olivia = live_server
    bundle = tmp_path / "goal_coach"
    shutil.copytree(PROJECT_ROOT / "prompts" / "goal_coach", bundle)
    args = ["apply", "-f", str(bundle / "steward.yaml"), "--server", server]
    assert runner.invoke(cli, [*args, "--token", olivia]).exit_code == 0
    with unit_of_work(make_engine(f"sqlite:///{tmp_path / 'server.db'}")) as session:
        _, ci = accounts.create_user(session, None, UserCreate(name="ci-bot", roles=[Role.ci]))
    unchanged = runner.invoke(cli, [*args, "--token", ci])
    assert unchanged.exit_code == 0 and "Nothing to do" in unchanged.output
    prompt = bundle / "system.md.j2"
    prompt.write_text(prompt.read_text() + "\nKeep answers under 150 words.\n")
    merged = runner.invoke(cli, [*args, "--token", ci, "-m", "Shorter answers (PR 42)"])
    assert merged.exit_code == 0, merged.output
    assert "updated prompt system (version 2)" in merged.output
    policy = bundle / "documents" / "performance-management-policy.md"
    policy.write_text(policy.read_text() + "\nA clause only People Operations may add.\n")
    prompt.write_text(prompt.read_text() + "\nNever more than five goals.\n")
    refused = runner.invoke(cli, [*args, "--token", ci])
    assert refused.exit_code == 1 and "(403)" in refused.output and "olivia" in refused.output  # names the owner
    assert "nothing was written" in refused.output
    with unit_of_work(make_engine(f"sqlite:///{tmp_path / 'server.db'}")) as session:
        system = components.find_owned(
            session, products.get_product(session, "goal-coach"), components.ComponentKind.prompt, "system"
        )
        assert system.head_number == 2  # the prompt change waits with the refused policy change


def test_apply_after_an_api_edit_shows_the_conflict_and_force_overwrites_it(live_server, tmp_path):
    server, olivia = live_server
    args = ["apply", "-f", str(PROJECT_ROOT / "prompts/goal_coach/steward.yaml"), "--server", server]
    assert runner.invoke(cli, [*args, "--token", olivia]).exit_code == 0
    headers = {"Authorization": f"Bearer {olivia}"}
    url = f"{server}/api/v1/documents/performance-management-policy"
    policy = httpx.get(url, headers=headers).json()["content"]
    policy["content"] += "\n14. Goals may be revised at the mid-year check-in.\n"
    assert httpx.put(url, json=policy, headers=headers).status_code == 201
    planned = runner.invoke(cli, [*args, "--token", olivia, "--dry-run"])
    assert planned.exit_code == 1, planned.output
    assert "! document performance-management-policy: conflict" in planned.output
    assert "-14. Goals may be revised at the mid-year check-in." in planned.output  # the diff, head to file
    refused = runner.invoke(cli, [*args, "--token", olivia])
    assert refused.exit_code == 1 and "nothing was written" in refused.output
    assert httpx.get(url, headers=headers).json()["number"] == 2
    forced = runner.invoke(cli, [*args, "--token", olivia, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "overwrote document performance-management-policy (version 3)" in forced.output
    audit = httpx.get(f"{server}/api/v1/audit", headers=headers).json()["items"]
    overwrite = next(e for e in audit if e["action"] == "document.overwritten")
    assert overwrite["actor"] == "olivia" and overwrite["before"]["version"] == 2


def test_eval_run_with_server_takes_another_teams_process_from_it(live_server, tmp_path, env):
    server, olivia = live_server
    assert (
        runner.invoke(
            cli,
            [
                "apply",
                "-f",
                str(PROJECT_ROOT / "prompts/goal_coach/steward.yaml"),
                "--server",
                server,
                "--token",
                olivia,
            ],
        ).exit_code
        == 0
    )
    bundle = tmp_path / "coach"
    shutil.copytree(PROJECT_ROOT / "prompts" / "goal_coach", bundle)
    shutil.rmtree(bundle / "processes")
    shutil.rmtree(bundle / "documents")
    spec = yaml.safe_load((bundle / "steward.yaml").read_text())
    del spec["documents"], spec["processes"]  # another team keeps those; the bundle only links them
    (bundle / "steward.yaml").write_text(yaml.safe_dump(spec))
    suite = str(bundle / "suites/goal-coach-quality.yaml")
    local = runner.invoke(cli, ["eval", "run", suite, "--bundle", str(bundle / "steward.yaml"), "--no-cache"])
    assert local.exit_code == 2
    assert local.output.count("process 'goal-setting'") == 1 and "--server" in local.output
    junit = tmp_path / "report.xml"
    remote = runner.invoke(
        cli,
        [
            "eval",
            "run",
            suite,
            "--bundle",
            str(bundle / "steward.yaml"),
            "--server",
            server,
            "--token",
            olivia,
            "--no-cache",
            "--junit",
            str(junit),
        ],
    )
    assert remote.exit_code == 0, remote.output
    assert 'tests="22"' in junit.read_text() and "PASSED" in remote.output
    live = runner.invoke(
        cli,
        [
            "eval",
            "run",
            suite,
            "--bundle",
            str(bundle / "steward.yaml"),
            "--server",
            server,
            "--token",
            olivia,
            "--live",
            "--no-cache",
        ],
    )
    assert live.exit_code == 2 and "no live release" in live.output


def test_help_shows_flags_without_a_type():
    result = runner.invoke(cli, ["apply", "--help"])
    assert result.exit_code == 0 and "--dry-run" in result.output and "<bool>" not in result.output


def test_eval_server_catalog_reads_heads_or_the_live_releases_versions():
    from service.cli.eval import _ServerCatalog

    process = {"name": "Goal setting", "description": "", "steps": [], "documents": []}
    answers = {
        "/api/v1/processes/goal-setting": {"number": 5, "content": process},
        "/api/v1/products/goal-coach": {"live_release": 11, "live_release_number": 4},
        "/api/v1/products/goal-coach/releases/4": {
            "manifest": {"processes": {"goal-setting": {"version": 3}}, "documents": {}}
        },
        "/api/v1/processes/goal-setting/versions/3": {"number": 3, "content": process},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        found = answers.get(request.url.path)
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={})

    for live, version in ((False, 5), (True, 3)):
        catalog = _ServerCatalog("http://steward.test", "stw_x", "goal-coach", live=live)
        catalog.client = httpx.Client(base_url="http://steward.test", transport=httpx.MockTransport(answer))
        assert catalog("process", "goal-setting") == (process, version)
        assert catalog("document", "nowhere") is None


def test_the_cli_lists_the_domains_roles_without_importing_the_domain():
    assert [(r.name, r.value) for r in RoleName] == [(r.name, r.value) for r in Role]
    # every command, `steward eval run` too, starts without the domain (about 0.7 s of imports)
    code = "import sys, service.cli; print('governance' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_eval_commands_run_without_importing_the_domain(tmp_path):
    # the callback that installs the audit chain key would import governance (0.7-1 s) for a command
    # that never appends to the audit trail, and rich (0.15 s) is imported on the first styled print;
    # other commands still get the key
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from service.cli import app\n"
        "result = CliRunner().invoke(app, ['eval', 'schema', '-o', sys.argv[1]])\n"
        "assert result.exit_code == 0, result.output\n"
        "print('governance' in sys.modules, 'rich' in sys.modules)\n"
        "CliRunner().invoke(app, ['users', 'create', '--help'])\n"
        "print('governance.audit.sealing' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "schema.json")], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False", "True"]


@pytest.mark.parametrize(
    ("providers", "no_cache", "cache_file", "prefetched"),
    [
        (["openai:gpt-4o-mini"], True, b"entries", True),  # --no-cache: every case calls
        (["openai:gpt-4o-mini"], False, None, True),  # no cache yet: every case calls
        (["offline", "openai"], False, b"", True),  # an empty file answers nothing
        (["openai:gpt-4o-mini"], False, b"entries", False),  # a re-run may be answered from the cache alone
        (["offline"], True, None, False),  # no HTTP at all
    ],
)
def test_eval_run_imports_the_http_client_early_only_for_a_run_that_will_call(
    env, monkeypatch, providers, no_cache, cache_file, prefetched
):
    from service.cli import eval as eval_cli

    if cache_file is not None:
        env.resolved_eval_cache_path.parent.mkdir(parents=True, exist_ok=True)
        env.resolved_eval_cache_path.write_bytes(cache_file)
    started: list[str] = []
    monkeypatch.setattr(eval_cli, "import_in_background", started.append)
    eval_cli._prefetch_http_client(providers, no_cache)
    assert started == (["aiohttp"] if prefetched else [])
