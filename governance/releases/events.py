"""What releases announce: releases were cut and need runs, or open releases closed and their queued work is moot.

The runs package reacts, in the same transaction (see ``governance.kernel.events``).
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.audit.events import Actor
from governance.catalog.models import Product
from governance.releases.models import Release


@dataclass(frozen=True)
class ReleasesCut:
    """New releases that can be tested: queue runs of every suite of each, in chunks of ``chunk_size`` cases."""

    actor: Actor
    testable: list[tuple[Release, Product]]
    chunk_size: int


@dataclass(frozen=True)
class ReleasesClosed:
    """Releases were superseded or rejected before their runs finished."""

    release_ids: list[int]


@dataclass(frozen=True)
class ReleaseWentLive:
    """A release is now what employees get; a suspension of its product is lifted by it."""

    actor: Actor
    release: Release
    product: Product
