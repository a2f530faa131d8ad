"""What the audit trail announces, and who it names as the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from governance.audit.models import AuditEvent


class Named(Protocol):
    """Anyone with a name: a user. The trail records the name, so it needs nothing else of accounts."""

    @property
    def name(self) -> str: ...


Actor = Named | str
"""Who did it: a user, or a system actor's name (``system``, ``scheduler``)."""


def actor_name(actor: Actor) -> str:
    return actor if isinstance(actor, str) else actor.name


@dataclass(frozen=True)
class AuditRecorded:
    """An event was appended to the chain, in the current transaction; notifications enqueue from it."""

    event: AuditEvent
