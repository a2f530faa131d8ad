"""Signing what went live: an Ed25519 signature a running product checks offline against GET /keys."""

from __future__ import annotations

import base64
from typing import Any

from governance.kernel.canonical import canonical_json
from governance.serving.schemas import Attestation
from service.settings import Settings
from service.signing_keys import signing_key


def attest(settings: Settings, payload: dict[str, Any]) -> Attestation:
    """Sign ``payload`` (its canonical JSON) with the server's signing key."""
    key = signing_key(settings)
    signature = key.sign(canonical_json(payload).encode("utf-8"))
    return Attestation(payload=payload, key_id=key.key_id, signature=base64.b64encode(signature).decode("ascii"))
