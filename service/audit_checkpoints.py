"""Signed checkpoints of the audit chain's head, written by `steward audit checkpoint` and the notification pump,
and checked by `steward audit verify --checkpoint`."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from governance.audit.checkpoints import (
    CheckpointComparison,
    SignedCheckpoint,
    checkpoint_of_head,
    compare_with_chain,
    read_document,
)
from governance.audit.sealing import ChainKey
from service.signing_keys import PublicKey, SigningKey


def sign_head(session: Session, *, chain_key: ChainKey | None, signer: SigningKey) -> SignedCheckpoint:
    checkpoint = checkpoint_of_head(session, key=chain_key, signing_key_id=signer.key_id)
    return SignedCheckpoint(checkpoint, signer.sign(checkpoint.signed_bytes()))


def write_document(signed: SignedCheckpoint, path: Path) -> None:
    """Write the document whole or not at all: a reader never sees half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        scratch.write_text(json.dumps(signed.document(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(scratch, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()


class CheckpointRefused(Exception):
    """The checkpoint itself cannot be trusted: its signature does not verify, or an unknown key signed it."""


@dataclass(frozen=True)
class CheckedCheckpoint:
    signed: SignedCheckpoint
    comparison: CheckpointComparison


def check_document(
    session: Session, data: object, *, trusted: list[PublicKey], chain_key: ChainKey | None
) -> CheckedCheckpoint:
    """Check the signature first (a forged checkpoint proves nothing), then the chain against it.

    Raises:
        Invalid: the document is not a checkpoint (naming the fields).
        CheckpointRefused: an untrusted key, or a signature that does not verify.
    """
    signed = read_document(data)
    key_id = signed.checkpoint.signing_key_id
    by_id = {key.key_id: key for key in trusted}
    public = by_id.get(key_id)
    if public is None:
        known = ", ".join(sorted(by_id)) or "none"
        raise CheckpointRefused(
            f"the checkpoint is signed by key {key_id}, which is not trusted here (trusted: {known})"
        )
    if not public.verifies(signed.checkpoint.signed_bytes(), signed.signature):
        raise CheckpointRefused(
            f"the checkpoint's signature does not verify with key {key_id}: it was altered or forged"
        )
    return CheckedCheckpoint(signed, compare_with_chain(session, signed.checkpoint, key=chain_key))
