"""Webhook delivery, the edge that speaks HTTP: sign and POST due outbox deliveries, record each attempt.

Each delivery is claimed in one short transaction, sent with no transaction open, and its outcome
recorded in another; any number of processes may call ``deliver_due`` at any time (PostgreSQL skips rows
another sender holds, SQLite serialises its writers). Signing secrets are derived on the fly from the
server's secret key and are never logged.

Signature scheme, for receivers: ``X-Steward-Timestamp: <unix seconds>`` and
``X-Steward-Signature: sha256=<hex>``, where hex is HMAC-SHA256 keyed with the webhook's signing secret
(the whole ``whsec_...`` string, UTF-8) over ``f"{timestamp}.".encode() + raw_body``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Connection, Engine

from governance.kernel.db import utcnow
from governance.notifications.addresses import embedded_ipv4, ip_literal, is_public
from governance.notifications.deliveries import DeliveryWork, RetryPolicy, claim_due, record_attempt
from governance.notifications.signing import signature, signing_secret
from service.database import unit_of_work
from service.secret_key import server_secret_key
from service.settings import Settings

log = logging.getLogger("steward.notify")

USER_AGENT = "Steward-Webhooks/1"
RESPONSE_SNIPPET_BYTES = 300
# A claim outlives the request's time limit by this much before another sender may take the delivery over.
LEASE_MARGIN = timedelta(seconds=30)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_delay=timedelta(seconds=settings.webhook_retry_base_seconds),
        lease=timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN,
    )


def signed_headers(work: DeliveryWork, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Steward-Event": work.event_type,
        "X-Steward-Delivery": str(work.delivery_id),
        "X-Steward-Timestamp": str(timestamp),
        "X-Steward-Signature": signature(secret, timestamp, work.body),
    }


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the address checked, connected to as is (DNS is not asked again)."""

    url: str
    address: str

    def pinned(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL with the address as its host, the Host header and the TLS server name of the original URL."""
        parts = urlsplit(self.url)
        host = f"[{self.address.replace('%', '%25')}]" if ":" in self.address else self.address
        netloc = host + (f":{parts.port}" if parts.port is not None else "")
        original = parts.netloc.rsplit("@", 1)[-1]
        extensions: dict[str, Any] = {}
        if parts.scheme.lower() == "https" and parts.hostname and ip_literal(parts.hostname) is None:
            extensions["sni_hostname"] = parts.hostname
        return urlunsplit(parts._replace(netloc=netloc)), {"Host": original}, extensions


def _post(
    client: httpx.Client, target: Target, work: DeliveryWork, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """One POST to the checked address: the status code, and a short error text for anything but a 2xx."""
    url, host_header, extensions = target.pinned()
    try:
        # Streamed so a receiver that answers with a huge body costs us a few hundred bytes, not memory.
        with client.stream(
            "POST", url, content=work.body, headers={**headers, **host_header}, extensions=extensions
        ) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, None
            snippet = b""
            for piece in response.iter_bytes():
                snippet += piece
                if len(snippet) >= RESPONSE_SNIPPET_BYTES:
                    break
            text = snippet[:RESPONSE_SNIPPET_BYTES].decode("utf-8", "replace").strip()
            return response.status_code, f"HTTP {response.status_code}" + (f": {text}" if text else "")
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def resolve_target(url: str, settings: Settings) -> Target | str:
    """The address to POST ``url`` to, or why Steward will not: its host resolves to a non-public address.

    Anyone who may register a webhook could otherwise make the server call internal services (cloud metadata
    endpoints, admin consoles on loopback). Resolved and checked before every attempt, since DNS answers
    change, and the attempt connects to the address checked, so DNS cannot answer differently in between.
    IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4, Teredo, ...) are judged by that address.
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot resolve {host}: {exc}"
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        return f"cannot resolve {host}: no address"
    if not settings.webhook_allow_private_addresses:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not is_public(ip):
                inner = embedded_ipv4(ip)
                shown = f"{ip} (that is {', '.join(map(str, inner))})" if inner else str(ip)
                return (
                    f"refused: {host} resolves to {shown}, which is not a public address "
                    "(set STEWARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true to deliver inside your network)"
                )
    return Target(url=url, address=addresses[0])


def deliver_due(
    engine: Engine | Connection,
    *,
    settings: Settings,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> int:
    """Send up to ``limit`` due webhook deliveries, one at a time; safe to call from any process at any time.

    Args:
        engine: Where the outbox lives. A Connection works too (tests): its outer transaction is joined, not committed.
        settings: Secret key, time limit, attempt cap and backoff.
        client: The HTTP client to send with; by default one that follows no redirects.
        now: The clock, for tests; each attempt reads the real clock when None.
        limit: Most attempts made in this call.

    Returns:
        How many attempts were made (delivered or not).
    """
    key = server_secret_key(settings)
    policy = retry_policy(settings)
    own_client = client is None
    attempts = 0
    try:
        while attempts < limit:
            claimed_at = now or utcnow()
            with unit_of_work(engine) as session:
                work = claim_due(session, claimed_at, policy)
            if work is None:
                break
            if client is None:
                # Made only once there is something to send: building its TLS context costs milliseconds of CPU,
                # and the pump asks for due deliveries several times a second. Redirects are not followed: a
                # receiver that moved must be reconfigured, not silently chased.
                client = httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
            timestamp = int(now.timestamp()) if now else int(time.time())
            headers = signed_headers(work, signing_secret(key, work.webhook_id), timestamp)
            target = resolve_target(work.url, settings)
            status_code, error = (None, target) if isinstance(target, str) else _post(client, target, work, headers)
            with unit_of_work(engine) as session:
                state = record_attempt(
                    session, work, now=now or utcnow(), policy=policy, status_code=status_code, error=error
                )
            attempts += 1
            log.info(
                "webhook delivery %s (%s) to webhook %s: attempt %s, status %s, now %s",
                work.delivery_id,
                work.event_type,
                work.webhook_id,
                work.attempt,
                status_code,
                state or "taken over by another sender",
            )
    finally:
        if own_client and client is not None:
            client.close()
    return attempts
