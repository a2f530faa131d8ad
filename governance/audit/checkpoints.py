"""Checkpoints of the chain's head: what an intruder with the database (and even the chain key) cannot take back.

A seal stops an edit only if the sealing key stays secret, and nothing in the database stops the newest events
from being deleted: the chain that remains is still whole. A checkpoint (seq, head hash, event count, time),
signed with a key kept outside the database and kept somewhere its admins cannot write, pins the head: a later
chain must still hold that head at that seq, with every event before it.

The domain writes and checks the checkpoint's content; signing it is the edge's (``service.signing_keys``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from governance.audit import repository as audit_repo
from governance.audit.reading import ChainVerification, verify_chain
from governance.audit.sealing import ChainKey
from governance.kernel.canonical import canonical_json
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, FieldProblem, Invalid, field_path

CHECKPOINT_FORMAT: Literal["steward.audit-checkpoint.v1"] = "steward.audit-checkpoint.v1"


class Checkpoint(BaseModel):
    """What a checkpoint vouches for. Every field is signed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["steward.audit-checkpoint.v1"] = CHECKPOINT_FORMAT
    seq: int = Field(ge=0, description="The head's seq: the chain held events 1..seq.")
    head_hash: str | None = Field(pattern=r"^[0-9a-f]{64}$", description="The head's hash; none for an empty chain.")
    events: int = Field(ge=0)
    created_at: datetime
    chain_key_id: str | None = Field(description="The chain key whose seals were checked before signing.")
    signing_key_id: str = Field(min_length=1, max_length=100, description="The key that signed this checkpoint.")

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json")).encode("utf-8")


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: bytes

    def document(self) -> dict[str, Any]:
        """The JSON document written to a file or sent: the checkpoint and its Ed25519 signature (base64)."""
        return {
            "checkpoint": self.checkpoint.model_dump(mode="json"),
            "signature": base64.b64encode(self.signature).decode(),
        }


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint: Checkpoint
    signature: str = Field(min_length=1)


def read_document(data: Any) -> SignedCheckpoint:
    """A checkpoint document as read from JSON; ``Invalid`` names every field that is wrong."""
    try:
        document = _Document.model_validate(data)
    except ValidationError as error:
        problems = [FieldProblem(field=field_path(item["loc"]), reason=item["msg"]) for item in error.errors()]
        raise Invalid("not a Steward audit checkpoint", problems=problems) from None
    try:
        signature = base64.b64decode(document.signature, validate=True)
    except binascii.Error:
        raise Invalid("the signature is not base64", field="signature") from None
    return SignedCheckpoint(document.checkpoint, signature)


def checkpoint_of_head(session: Session, *, key: ChainKey | None, signing_key_id: str) -> Checkpoint:
    """The chain's head now, once the whole chain verifies: a checkpoint must never vouch for a broken chain."""
    verification = verify_chain(session, key)
    if not verification.ok:
        raise Conflict(f"the audit chain is broken at event {verification.first_bad_seq}: {verification.problem}")
    return Checkpoint(
        seq=verification.events,
        head_hash=verification.head_hash,
        events=verification.events,
        created_at=utcnow(),
        chain_key_id=verification.key_id,
        signing_key_id=signing_key_id,
    )


@dataclass(frozen=True)
class CheckpointComparison:
    """A checkpoint held against today's chain: the chain's own verification and what the checkpoint misses."""

    chain: ChainVerification
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


def compare_with_chain(session: Session, checkpoint: Checkpoint, *, key: ChainKey | None) -> CheckpointComparison:
    """Does the chain still hold the checkpoint's head at its seq, with the same hash and every event before it?"""
    when = checkpoint.created_at.isoformat()
    problems: list[str] = []
    present = audit_repo.count_up_to(session, checkpoint.seq)
    newest = audit_repo.chain_head(session)
    newest_seq = newest[0] if newest is not None else 0
    if newest_seq < checkpoint.seq:
        first_missing = newest_seq + 1
        problems.append(
            f"events {first_missing}-{checkpoint.seq} recorded in the checkpoint of {when} are missing: "
            "the newest events were deleted"
        )
    elif present != checkpoint.events:
        problems.append(
            f"the checkpoint of {when} recorded {checkpoint.events} events up to event {checkpoint.seq}; "
            f"the chain holds {present}"
        )
    if checkpoint.head_hash is not None and newest_seq >= checkpoint.seq:
        head = audit_repo.hash_at(session, checkpoint.seq)
        if head != checkpoint.head_hash:
            problems.append(
                f"event {checkpoint.seq} differs from the checkpoint of {when}: its hash was {checkpoint.head_hash}, "
                f"is {head}: the past was rewritten"
            )
    return CheckpointComparison(chain=verify_chain(session, key), problems=problems)
