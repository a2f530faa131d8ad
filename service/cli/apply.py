"""``steward apply``: a thin client of the server's bundle endpoints, printing the plan as terraform does.

The whole steward.yaml, with its files' contents, goes to ``POST /api/v1/bundles/plan``; the plan lists every
item (created, changed with its diff, unchanged, in conflict, refused) and the releases it would cut. Unless
``--dry-run``, a plan without problems is then sent to ``POST /api/v1/bundles/apply``, which applies all of it
in one transaction or nothing. Exit codes: 0 applied (or nothing to do), 1 refused or in conflict, 2 unusable
files or an unreachable server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from service.cli.output import console, fail
from service.settings import get_settings

if TYPE_CHECKING:  # the CLI imports its heavy modules inside commands, so `steward eval` starts fast
    import httpx

SIGNS = {
    "create": "+",
    "update": "~",
    "overwrite": "!",
    "unchanged": "=",
    "conflict": "!",
    "refused": "x",
    "skipped": "-",
}
CHANGES = ("create", "update", "overwrite")
DONE = {"create": "created", "update": "updated", "overwrite": "overwrote"}


def _refusal(response: httpx.Response, what: str) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    lines = [f"{what}: {response.status_code} {body.get('detail', '')}"]
    lines += [f"  {e.get('field')}: {e.get('reason')}" for e in body.get("errors", [])]
    return "\n".join(lines)


def print_plan(plan: dict[str, Any], *, verb: str) -> None:
    """The plan as a terraform-like list: one line per item, the diffs of changes and conflicts below it."""
    console.print(f"{verb} for product {plan['product']}:")
    for item in plan["items"]:
        action = item["action"]
        version = ""
        if action in CHANGES and item.get("version"):
            version = f" v{item['head']} -> v{item['version']}" if item.get("head") else f" v{item['version']}"
        summary = f"  ({item['summary']})" if item.get("summary") else ""
        console.print(f"  {SIGNS.get(action, '?')} {item['kind']} {item['name']}: {action}{version}{summary}")
        if item.get("diff") and action in (*CHANGES, "conflict"):
            for line in item["diff"].rstrip("\n").splitlines():
                console.print(f"      {line}")
    for release in plan["releases"]:
        suites = ", ".join(release["suites"]) or "no suites"
        fails = f": fails at once: {release['error']}" if release.get("error") else ""
        console.print(f"  release {release['number']} of {release['product']} ({release['state']}; {suites}){fails}")
    for problem in plan["problems"]:
        console.print(f"  problem: {problem['field']}: {problem['reason']} ({problem['status']})")
    counts = {action: sum(1 for i in plan["items"] if i["action"] == action) for action in SIGNS}
    console.print(
        f"Plan: {counts['create']} to create, {counts['update'] + counts['overwrite']} to change, "
        f"{counts['unchanged']} unchanged, {counts['conflict']} in conflict, {counts['refused']} refused, "
        f"{len(plan['releases'])} release(s) to cut."
    )


def _expect_heads(pairs: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for pair in pairs:
        name, sep, sha = pair.partition("=")
        if not sep or "/" not in name or not sha:
            fail(f"--expect-head {pair!r}: expected KIND/NAME=SHA256, e.g. prompt/system=3f2a9c1", code=2)
        pins[name] = sha
    return pins


def apply(
    file: Path = typer.Option(..., "-f", "--file", help="The steward.yaml to apply."),
    server: str = typer.Option(None, help="Steward server URL (default: STEWARD_SERVER_URL)."),
    token: str | None = typer.Option(None, help="API token (default: STEWARD_TOKEN).", show_default=False),
    message: str = typer.Option("", "-m", "--message", help="Version message for everything this publishes."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing. Exit 1 on any problem."),
    force: bool = typer.Option(False, "--force", help="Overwrite heads published outside this bundle (audited)."),
    expect_head: list[str] = typer.Option(
        [], "--expect-head", metavar="KIND/NAME=SHA", help="Apply an item only over this head (repeatable)."
    ),
) -> None:
    """Plan and apply a product and its prompts, suites, documents and processes from files, in one transaction."""
    import httpx

    from service.bundle import BundleError, bundle_request, load_bundle

    settings = get_settings()
    server = server or settings.server_url
    token = token or (settings.token.get_secret_value() if settings.token else None)
    if not token:
        fail("no token: pass --token or set STEWARD_TOKEN", code=2)
    try:
        bundle = load_bundle(file)
        if message:
            for group in (bundle.documents, bundle.processes, bundle.prompts, bundle.suites):
                for payload in group.values():
                    payload.message = message
        body = bundle_request(bundle, force=force, expect_heads=_expect_heads(expect_head))
    except BundleError as exc:
        fail(f"{file} cannot be applied:\n" + "\n".join(f"  {p}" for p in exc.problems), code=2)
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "steward-apply"}
    with httpx.Client(base_url=server, headers=headers, timeout=120) as client:
        try:
            planned = client.post("/api/v1/bundles/plan", json=body)
            if planned.status_code != 200:
                fail(_refusal(planned, f"{file}: the plan was refused"))
            plan = planned.json()
            print_plan(plan, verb="Plan" if dry_run else "Applying")
            if plan["problems"]:
                count = len(plan["problems"])
                fail(
                    f"{file}: {count} problem(s): "
                    + ("applying would write nothing" if dry_run else "nothing was written")
                )
            changes = [i for i in plan["items"] if i["action"] in CHANGES]
            if dry_run:
                console.print(f"{len(changes)} change(s) pending." if changes else "Nothing to do.")
                return
            applied = client.post("/api/v1/bundles/apply", json=body)
        except httpx.HTTPError as exc:
            fail(f"cannot reach {server}: {exc}", code=2)
    if applied.status_code != 200:
        fail(_refusal(applied, f"{file}: not applied, nothing was written"))
    result = applied.json()
    done = [i for i in result["items"] if i["action"] in CHANGES]
    if not done:
        console.print("Nothing to do: everything is already published.")
        return
    for item in done:
        version = f" (version {item['version']})" if item.get("version") else ""
        console.print(f"  {DONE[item['action']]} {item['kind']} {item['name']}{version}")
    releases = ", ".join(f"{r['product']} release {r['number']} ({r['state']})" for r in result["releases"])
    console.print(f"{len(done)} change(s) applied in one transaction." + (f" Cut: {releases}." if releases else ""))
