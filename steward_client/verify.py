"""Checking a live release offline: contents hash to the manifest, the manifest to its hash, the hash is signed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from steward_client.errors import AttestationError

# What each component's hash covers, as the server computes it (its canonical content).
_CONTENT_FIELDS = {
    "documents": ("title", "content", "content_type"),
    "processes": ("name", "description", "steps", "documents"),
}


def canonical_json(value: Any) -> str:
    """Steward's canonical JSON: sorted keys, no spaces, UTF-8 (the one serialisation it hashes and signs)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def public_key(pem: str) -> Ed25519PublicKey:
    key = load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise AttestationError("a published key is not an Ed25519 public key")
    return key


def _check_contents(body: Mapping[str, Any]) -> None:
    manifest = body["manifest"]
    if sha256_of(manifest) != body["manifest_hash"]:
        raise AttestationError("the manifest does not hash to the release's manifest_hash")
    sections: dict[str, dict[str, Any]] = {
        "prompts": {name: {"template": e["template"]} for name, e in body["prompts"].items()},
    }
    for section, fields in _CONTENT_FIELDS.items():
        sections[section] = {slug: {f: e[f] for f in fields} for slug, e in body[section].items()}
    for section, contents in sections.items():
        listed = manifest[section]
        if set(contents) != set(listed):
            raise AttestationError(f"the {section} sent are not the {section} of the manifest")
        for name, content in contents.items():
            if sha256_of(content) != listed[name]["sha256"]:
                raise AttestationError(
                    f"{section[:-1] if section != 'processes' else 'process'} '{name}' "
                    "does not hash to its manifest entry"
                )


def verify_live(body: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> str:
    """Check a live release end to end; the id of the key that signed it.

    Raises:
        AttestationError: a content, the manifest, the attestation's claims or its signature do not match.
    """
    try:
        _check_contents(body)
        attestation = body["attestation"]
        if attestation is None:
            raise AttestationError("the release carries no attestation")
        payload = attestation["payload"]
        claims = {
            "product": body["product"],
            "release": body["release"],
            "manifest_hash": body["manifest_hash"],
            "approvers": body["approvers"],
            "signed_off_by": body["signed_off_by"],
        }
        for name, value in claims.items():
            if payload.get(name) != value:
                raise AttestationError(f"the attestation's {name} is not the release's")
        key = keys.get(attestation["key_id"])
        if key is None:
            raise AttestationError(f"signed with key {attestation['key_id']}, which is not a trusted key")
        key.verify(base64.b64decode(attestation["signature"], validate=True), canonical_json(payload).encode("utf-8"))
    except InvalidSignature:
        raise AttestationError("the attestation's signature does not verify") from None
    except (KeyError, TypeError, binascii.Error) as exc:
        raise AttestationError(f"the live release is malformed ({type(exc).__name__}: {exc})") from None
    return str(attestation["key_id"])
