"""``steward demo``: seed the reference product and demo users on first start; print how to sign in."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.output import console, fail
from service.settings import get_settings


def demo(
    bundle: Path = typer.Option(
        None, "--bundle", help="steward.yaml of the product to seed (default: the goal coach)."
    ),
) -> None:
    """Seed the demo users and the reference product (once), then print the URL and the demo tokens."""
    from governance.kernel.errors import DomainError
    from service.bundle import BundleError
    from service.database import engine_for, unit_of_work
    from service.seed import DEMO_RUNTIME_USER, DEMO_USERS, launch_first_release, read_tokens, seed_demo, write_tokens

    settings = get_settings()
    steward_yaml = bundle or settings.prompts_dir / "goal_coach" / "steward.yaml"
    engine = engine_for(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            result = seed_demo(session, steward_yaml)
    except (BundleError, DomainError) as exc:
        fail(str(exc))
    if result.seeded:
        write_tokens(settings.var_dir, result.tokens)
        console.print("Seeded the demo users and the reference product 'goal-coach'.")
        problem = launch_first_release(engine, settings)
        if problem:
            fail(f"the reference product could not be launched: {problem}")
        console.print("Its first release passed its suite, was signed off, approved by two reviewers and is live.")
    tokens = result.tokens or read_tokens(settings.var_dir)
    base = f"http://{settings.host}:{settings.port}"
    console.print(f"\nSteward: {base}   API docs: {base}/docs")
    console.print("Demo users (tokens kept in var/demo-tokens.json, git-ignored):")
    # Plain lines, never wrapped, so a token can be copied from any terminal width.
    for name, display_name, roles in DEMO_USERS:
        print(
            f"  {name:<9} {', '.join(r.value for r in roles):<14} {tokens.get(name, '(not on file)')}  {display_name}"
        )
    name, display_name = DEMO_RUNTIME_USER
    print(f"  {name:<9} {'runtime':<14} {tokens.get(name, '(not on file)')}  {display_name}")
