"""Ed25519 signing keys kept outside the database: Steward signs what it vouches for (audit checkpoints) with them.

The private key is a PKCS#8 PEM file: ``STEWARD_SIGNING_KEY_FILE``, else ``var/signing_key``, generated once
(0600, atomically). A key is named by its key id, derived from the public key, so keys can rotate and anyone
holding the public key can tell which key signed a document and check it without the private key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.secret_key import create_private_file_once
from service.settings import Settings

KEY_ID_PREFIX = "ed25519:"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_ID_PREFIX + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    """A key that checks signatures: the one to publish."""

    key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.key)

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> str:
        encoded = self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return encoded.decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs; its public half verifies."""

    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def signing_key_path(settings: Settings) -> Path:
    return settings.signing_key_file or Path(settings.var_dir) / "signing_key"


def signing_key(settings: Settings) -> SigningKey:
    """This server's signing key; generated on first use when the default file does not exist yet.

    A configured ``STEWARD_SIGNING_KEY_FILE`` is never generated: a missing file there is a mistake to report.
    """
    path = signing_key_path(settings)
    if settings.signing_key_file is None:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        create_private_file_once(path, pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such signing key file (STEWARD_SIGNING_KEY_FILE)") from None
    except ValueError as error:
        raise ValueError(f"{path}: not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return SigningKey(key)


def read_public_key(path: Path) -> PublicKey:
    """A public key from a PEM file (as ``steward audit public-key`` prints it), to verify without the private key."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except ValueError as error:
        raise ValueError(f"{path}: not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return PublicKey(key)
