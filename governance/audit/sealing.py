"""The key that seals the audit chain, and the one place that holds it for this process.

An unkeyed hash chain stops an edit only as long as nobody recomputes the hashes after it: anyone who can write
the table can. Sealing each event with HMAC-SHA256 under a key kept outside the database makes a rewrite need
the key too. The key is a subkey of the server secret (derived by the edge, never stored in the database); the
domain does not know where it comes from, so the edges install it at startup (the app, the CLI, the workers)
and the tests install a fixture key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

# The purpose of the subkey: a new scheme gets a new label, so no two uses of the server secret share a key.
CHAIN_KEY_LABEL = b"steward audit chain v1"


@dataclass(frozen=True)
class ChainKey:
    """An HMAC-SHA256 key for audit seals, named by a key id that reveals nothing of the key."""

    secret: bytes = field(repr=False)

    @classmethod
    def derive(cls, server_secret: bytes) -> ChainKey:
        """The audit chain's subkey of a server secret: HMAC(secret, label), so the secret itself seals nothing."""
        return cls(hmac.new(server_secret, CHAIN_KEY_LABEL, hashlib.sha256).digest())

    @property
    def key_id(self) -> str:
        # A one-way name: events record which key sealed them, and a rotated key is told apart from the old one.
        return hmac.new(self.secret, b"key id", hashlib.sha256).hexdigest()[:16]

    def seal(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


class ChainKeyMissing(RuntimeError):
    """An event was to be appended before the process installed the audit chain key."""


_installed: ChainKey | Callable[[], ChainKey] | None = None


def install_chain_key(key: ChainKey | Callable[[], ChainKey] | None) -> None:
    """Make ``key`` the one this process seals with; a callable is asked on first use (the key file may not exist
    yet), ``None`` uninstalls."""
    global _installed
    _installed = key


def installed_chain_key() -> ChainKey | None:
    """The installed key, or ``None``: verifying without it still checks the chain's links."""
    global _installed
    if callable(_installed):
        _installed = _installed()
    return _installed


def require_chain_key() -> ChainKey:
    key = installed_chain_key()
    if key is None:
        # Failing beats appending an unsealed event: after sealed ones it would read as a break in the chain.
        raise ChainKeyMissing("no audit chain key is installed in this process; the edge must install one at startup")
    return key
