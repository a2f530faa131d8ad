"""Signing webhook payloads: a per-webhook secret derived from the server key, and an HMAC over time and body."""

from __future__ import annotations

import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def signing_secret(server_key: bytes, webhook_id: int) -> str:
    """A webhook's signing secret, derived (never stored) from the server's secret key and the webhook id."""
    digest = hmac.new(server_key, f"steward-webhook:{webhook_id}".encode(), hashlib.sha256).hexdigest()
    return SECRET_PREFIX + digest


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 keyed with the secret string over ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
