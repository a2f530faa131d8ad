"""What the client raises: the application turns each into its non-AI path."""

from __future__ import annotations


class StewardError(Exception):
    """Steward refused or could not answer, and nothing cached can stand in."""


class StewardUnavailable(StewardError):
    """The server could not be reached and there is no last good release or fallback to serve."""


class NoLiveRelease(StewardError):
    """The product exists but nothing has been approved for employees yet."""


class ProductSuspended(StewardError):
    """A human overseer stopped the product: serve the non-AI path until it is resumed."""

    def __init__(self, product: str, reason: str) -> None:
        super().__init__(reason)
        self.product = product
        self.reason = reason


class AttestationError(StewardError):
    """What the server sent is not what was approved: a hash or the signature does not match."""
