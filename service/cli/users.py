"""``steward users``: bootstrap users and tokens directly in the database (an operator's tool)."""

from __future__ import annotations

import enum

import typer

from service.cli.output import console, fail
from service.settings import get_settings


class RoleName(enum.StrEnum):
    """``governance.accounts.roles.Role``'s names, for the option's choices (a test keeps them equal).

    Importing any module of ``governance`` imports the whole domain (its ``__init__`` wires the event
    reactions): about 0.7 s that every ``steward`` command, ``steward eval run`` too, paid at start-up
    only to list the roles here. The domain is imported when a users command runs.
    """

    admin = "admin"
    product_owner = "product_owner"
    reviewer = "reviewer"
    ci = "ci"
    runtime = "runtime"


users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)


@users_app.command("create")
def create(
    name: str = typer.Argument(..., help="User name: lowercase letters, digits, '_', '.', '-'."),
    role: list[RoleName] = typer.Option(..., "--role", "-r", help="Role; repeat for several."),
    display_name: str = typer.Option("", help="Name shown in the web app."),
    email: str | None = typer.Option(None, help="E-mail address for notifications."),
    product: list[str] = typer.Option(
        [], "--product", "-p", help="For a runtime user: a product it serves; repeat for several."
    ),
) -> None:
    """Create a user and print their API token (shown once)."""
    from pydantic import ValidationError

    from governance.accounts.roles import Role
    from governance.accounts.schemas import UserCreate
    from governance.kernel.errors import DomainError, field_path
    from governance.serving import accounts
    from service.database import engine_for, unit_of_work

    try:
        data = UserCreate(
            name=name, display_name=display_name, email=email, roles=[Role(r.value) for r in role], products=product
        )
    except ValidationError as exc:
        fail("; ".join(f"{field_path(e['loc'])}: {e['msg']}" for e in exc.errors()), code=2)
    try:
        with unit_of_work(engine_for(get_settings().database_url)) as session:
            user, token = accounts.create_user(session, None, data)
    except DomainError as exc:
        fail(exc.detail)
    scope = f" for {', '.join(user.products)}" if user.products else ""
    console.print(f"created user {user.name} with roles {', '.join(user.roles)}{scope}")
    console.print("API token (shown once; Steward keeps only its hash):")
    print(token)


@users_app.command("token")
def token(
    name: str = typer.Argument(..., help="User to issue a token for."),
    label: str = typer.Option("", help="What the token is for."),
) -> None:
    """Issue another API token for a user and print it (shown once)."""
    from governance.accounts import users as accounts
    from governance.kernel.errors import DomainError
    from service.database import engine_for, unit_of_work

    try:
        with unit_of_work(engine_for(get_settings().database_url)) as session:
            user = accounts.get_user(session, name)
            value = accounts.issue_token(session, user, label=label)
    except DomainError as exc:
        fail(exc.detail)
    print(value)
