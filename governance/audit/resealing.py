"""Resealing the events written before the chain was keyed: once, by an admin, after upgrading.

Events from before keyed seals carry a plain SHA-256 that anyone can recompute, so a verification with the key
accepts none of them (else rewriting the whole chain without a key would pass). Resealing checks the old chain
first (SHA-256 where unkeyed, the seal where keyed), then seals every event under the key in chain order,
content unchanged, and appends an ``audit.resealed`` event that records the head hash it replaced, so an
export or checkpoint taken before can still be matched to the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from governance.audit import repository as audit_repo
from governance.audit.events import Actor
from governance.audit.reading import walk_chain
from governance.audit.sealing import ChainKey
from governance.audit.trail import GENESIS_HASH, begin_write, event_hash, record_event
from governance.kernel.errors import Conflict

# Events written per flush: bounded memory on a long trail.
_FLUSH_EVERY = 1000


@dataclass(frozen=True)
class Resealed:
    unkeyed: int
    events: int
    old_head_hash: str | None
    new_head_hash: str | None


def reseal_unkeyed(session: Session, actor: Actor, key: ChainKey) -> Resealed:
    """Seal every event under ``key`` when some are unkeyed; nothing happens when all of them are keyed already.

    Raises:
        Conflict: the chain does not verify as it stands: resealing must never launder an edit.
    """
    begin_write(session)
    before = walk_chain(session, key, unkeyed_allowed=True)
    if not before.ok:
        raise Conflict(f"the audit chain is broken at event {before.first_bad_seq}: {before.problem}; nothing resealed")
    if before.unkeyed == 0:
        return Resealed(unkeyed=0, events=before.events, old_head_hash=before.head_hash, new_head_hash=before.head_hash)
    previous, written = GENESIS_HASH, 0
    for event in audit_repo.iterate_all(session):
        event.prev_hash, event.key_id = previous, key.key_id
        event.hash = event_hash(event, key)
        previous, written = event.hash, written + 1
        if written % _FLUSH_EVERY == 0:
            session.flush()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="audit.resealed",
        subject_type="audit",
        subject="chain",
        before={"head_hash": before.head_hash, "unkeyed_events": before.unkeyed},
        after={"head_hash": previous, "events": before.events, "key_id": key.key_id},
        reason="events written before keyed seals were sealed with the chain key",
    )
    return Resealed(
        unkeyed=before.unkeyed, events=before.events, old_head_hash=before.head_hash, new_head_hash=previous
    )
