"""What the catalog announces: a component has a new head, a product's links, model, owner or declared use changed.

The releases package reacts by cutting releases, review by voiding sign-offs, in the same transaction
(see ``governance.kernel.events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.accounts.models import User
from governance.catalog.models import Component, ComponentVersion, Product


@dataclass(frozen=True)
class ComponentPublished:
    """A new version became the head of ``component``; ``product`` is set for prompts and suites."""

    actor: User
    component: Component
    version: ComponentVersion
    product: Product | None


@dataclass(frozen=True)
class ProductChanged:
    """What ``product`` is made of changed other than through a version: its links or its model settings."""

    actor: User
    product: Product
    cause: dict[str, Any]


@dataclass(frozen=True)
class ProductOwnerChanged:
    """``product`` was handed from ``before`` to its new owner (``product.owner``): open sign-offs are void."""

    actor: User
    product: Product
    before: User


@dataclass(frozen=True)
class ProductDeclared:
    """What ``product`` is classified by changed: its declared HR use, intended purpose or risk tier (or it is new).

    ``before`` is None for a new product; ``justification`` is an admin's reason for a tier below the computed one.
    """

    actor: User
    product: Product
    before: dict[str, Any] | None
    justification: str | None
