"""The ``steward`` command line: a thin adapter over the same functions the HTTP API calls."""

from __future__ import annotations

import typer

from service.cli.apply import apply
from service.cli.audit import audit_app
from service.cli.demo import demo
from service.cli.eval import eval_app
from service.cli.recertify import recertify
from service.cli.server import db_app, serve
from service.cli.technical_file import technical_file_app
from service.cli.users import users_app
from service.cli.worker import worker
from service.process import started

app = typer.Typer(
    name="steward",
    help="Steward: lifecycle governance for AI HR products.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# Commands that never append to the audit trail: they start without the governance domain, whose package
# imports all of it (0.7-1 s, most of the one-shot `steward eval run`'s start-up besides the engine itself).
_NO_AUDIT_TRAIL = frozenset({"eval"})
# Commands that run once and end: they skip the interpreter's teardown (service.process). ``steward eval``'s
# commands say themselves when their start-up is over (``eval run`` once its suite is loaded).
_ONE_SHOT = frozenset({"eval"})
_invoked: dict[str, str | None] = {"command": None}


@app.callback()
def _startup(ctx: typer.Context) -> None:
    """Every command that appends to the audit trail seals with the server's chain key, read on first use."""
    _invoked["command"] = ctx.invoked_subcommand
    if ctx.invoked_subcommand not in _ONE_SHOT:
        started()
    if ctx.invoked_subcommand in _NO_AUDIT_TRAIL:
        return
    from governance.audit.sealing import install_chain_key
    from service.secret_key import audit_chain_key
    from service.settings import get_settings

    install_chain_key(lambda: audit_chain_key(get_settings()))


app.command()(serve)
app.command()(demo)
app.command()(apply)
app.command()(worker)
app.command()(recertify)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(eval_app, name="eval")
app.add_typer(audit_app, name="audit")
app.add_typer(technical_file_app, name="technical-file")


def one_shot_command() -> bool:
    """Whether the command this process ran is one that runs once and ends (its exit may skip the teardown)."""
    return _invoked["command"] in _ONE_SHOT
