"""``steward audit``: verify the chain (against a signed checkpoint, too), checkpoint its head, export the trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.cli.output import console, fail
from service.settings import get_settings

if TYPE_CHECKING:
    from governance.audit.sealing import ChainKey
    from governance.kernel.unit_of_work import UnitOfWork

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Also check the chain against this signed checkpoint (from `audit checkpoint`)."
    ),
    public_key: list[Path] = typer.Option(
        [],
        "--public-key",
        help="Trust checkpoints signed by this PEM public key (repeatable); default: this server's signing key.",
    ),
    links_only: bool = typer.Option(False, "--links-only", help="Check the links only, not the keyed seals."),
) -> None:
    """Walk the chain end to end; exit 1 naming the first edited, removed or reordered event.

    With the chain key (derived from the server secret) every seal is checked; without it only the links are.
    With --checkpoint, the chain must still hold the checkpoint's head, with the same hash and every event
    before it: deleted newest events or a rewritten past are named.
    """
    from governance.audit.reading import verify_chain
    from governance.audit.sealing import installed_chain_key
    from service.database import engine_for, unit_of_work

    chain_key = None if links_only else installed_chain_key()
    with unit_of_work(engine_for(get_settings().database_url)) as session:
        if checkpoint is not None:
            _verify_against_checkpoint(session, checkpoint, public_key, chain_key)
            return
        result = verify_chain(session, chain_key, links_only=links_only)
    if not result.ok:
        fail(
            f"audit chain broken at event {result.first_bad_seq}: {result.problem} "
            f"({result.events} events verified before it; {result.checked})"
        )
    console.print(
        f"audit chain verified: {result.events} events, head {result.head_hash or '(empty)'}; {result.checked}"
    )


def _verify_against_checkpoint(
    session: UnitOfWork, path: Path, public_keys: list[Path], chain_key: ChainKey | None
) -> None:
    from governance.kernel.errors import DomainError
    from service.audit_checkpoints import CheckpointRefused, check_document
    from service.signing_keys import read_public_key, signing_key

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{path}: cannot read the checkpoint: {exc}")
    try:
        trusted = [read_public_key(key) for key in public_keys] or [signing_key(get_settings()).public]
    except (OSError, ValueError) as exc:
        fail(str(exc))
    try:
        checked = check_document(session, data, trusted=trusted, chain_key=chain_key)
    except CheckpointRefused as exc:
        fail(f"{path}: {exc}")
    except DomainError as exc:
        where = "; ".join(f"{problem.field}: {problem.reason}" for problem in exc.problems)
        fail(f"{path}: {exc.detail}" + (f" ({where})" if where else ""))
    head = checked.signed.checkpoint
    comparison = checked.comparison
    for problem in comparison.problems:
        fail(f"{path}: {problem}")
    if not comparison.chain.ok:
        chain = comparison.chain
        fail(f"audit chain broken at event {chain.first_bad_seq}: {chain.problem} ({chain.checked})")
    console.print(
        f"checkpoint of {head.created_at.isoformat()} verified (signed by {head.signing_key_id}): the chain still "
        f"holds event {head.seq} with hash {head.head_hash or '(empty)'}; audit chain verified: "
        f"{comparison.chain.events} events; {comparison.chain.checked}"
    )


@audit_app.command("checkpoint")
def checkpoint(
    output: Path = typer.Option(..., "-o", "--output", help="Write the signed checkpoint to this file."),
) -> None:
    """Sign the chain's head (seq, hash, event count, time) with the server's Ed25519 key, after verifying it.

    Keep the file where the database's admins cannot write; `audit verify --checkpoint FILE` checks it later.
    """
    from governance.audit.sealing import installed_chain_key
    from governance.kernel.errors import DomainError
    from service.audit_checkpoints import sign_head, write_document
    from service.database import engine_for, unit_of_work
    from service.signing_keys import signing_key

    settings = get_settings()
    try:
        signer = signing_key(settings)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    try:
        with unit_of_work(engine_for(settings.database_url)) as session:
            signed = sign_head(session, chain_key=installed_chain_key(), signer=signer)
    except DomainError as exc:
        fail(f"no checkpoint written: {exc.detail}")
    try:
        write_document(signed, output)
    except OSError as exc:
        fail(f"{output}: {exc}")
    head = signed.checkpoint
    console.print(
        f"wrote checkpoint of event {head.seq} ({head.events} events) signed by {head.signing_key_id} to {output}"
    )


@audit_app.command("public-key")
def public_key() -> None:
    """Print the public key that verifies this server's checkpoints (PEM), for `verify --public-key` elsewhere."""
    from service.signing_keys import signing_key

    try:
        key = signing_key(get_settings())
    except (OSError, ValueError) as exc:
        fail(str(exc))
    print(key.public.pem(), end="")


@audit_app.command("export")
def export(
    product: str | None = typer.Option(
        None, "--product", help="Only events about this product slug, and the publishes that cut its releases."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
) -> None:
    """Export events as JSON lines (one event per line, with its hashes) for an auditor."""
    from governance.audit.reading import export_events
    from service.database import engine_for, unit_of_work

    handle = output.open("w", encoding="utf-8") if output else None
    count = 0
    try:
        with unit_of_work(engine_for(get_settings().database_url)) as session:
            for event in export_events(session, product=product):
                line = json.dumps(event, ensure_ascii=False, sort_keys=True)
                if handle:
                    handle.write(line + "\n")
                else:
                    print(line)
                count += 1
    finally:
        if handle:
            handle.close()
    if output:
        console.print(f"wrote {count} events to {output}")


@audit_app.command("reseal")
def reseal(
    actor: str = typer.Option(..., "--as", help="The admin who reseals: recorded in the audit.resealed event."),
) -> None:
    """Seal events written before the chain was keyed (once, after upgrading); refuses a chain that is broken."""
    from governance.accounts.permissions import require_admin
    from governance.accounts.users import get_user
    from governance.audit.resealing import reseal_unkeyed
    from governance.audit.sealing import require_chain_key
    from governance.kernel.errors import DomainError
    from service.database import engine_for, unit_of_work

    try:
        with unit_of_work(engine_for(get_settings().database_url)) as session:
            admin = get_user(session, actor)
            require_admin(admin, action="resealing the audit chain")
            result = reseal_unkeyed(session, admin, require_chain_key())
    except DomainError as exc:
        fail(f"--as {actor}: {exc.detail}" if exc.status in (403, 404) else f"nothing resealed: {exc.detail}")
    if result.unkeyed == 0:
        console.print(f"nothing to reseal: all {result.events} events are sealed with the chain key")
        return
    console.print(
        f"resealed {result.events} events ({result.unkeyed} were unkeyed); head {result.old_head_hash} is now "
        f"{result.new_head_hash}; recorded as audit.resealed"
    )
