"""The client: the live release from memory at once, refreshed in the background, verified, and stoppable.

``live()`` answers from memory (a dictionary lookup and a clock read) and, once the cached release is older
than ``ttl``, starts one background revalidation (``If-None-Match``, usually a 304). When the server is down,
the last good release keeps being served; with nothing cached, the application's ``fallback``. A release the
server says is suspended (423) is dropped at once and every later call raises ``ProductSuspended``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from steward_client.errors import NoLiveRelease, ProductSuspended, StewardError, StewardUnavailable
from steward_client.feedback import FeedbackSender
from steward_client.release import LiveRelease
from steward_client.verify import public_key, verify_live

Fallback = Callable[[str], LiveRelease]


@dataclass
class _Cached:
    release: LiveRelease
    etag: str | None
    fetched_at: float


class StewardClient:
    """Fetches products' live releases from a Steward server for a running application.

    Args:
        url: The server, e.g. ``https://steward.example.com``.
        token: A runtime token (``steward users create coach-app --role runtime --product goal-coach``).
        ttl: Seconds a fetched release is served before it is revalidated in the background.
        timeout: Seconds one request to the server may take.
        trusted_keys: Key id to PEM of the keys allowed to sign releases. Pin them in production; when
            omitted they are fetched once from ``GET /api/v1/keys`` (trust on first use).
        verify: Check hashes and the attestation of every release (turn off only in tests of your own).
        fallback: Called with the product's slug when nothing was ever fetched and the server is unreachable.
        feedback_interval: Seconds between background sends of queued feedback.
        feedback_limit: Most feedback items kept while Steward cannot be reached; the oldest are dropped.
        transport: An httpx transport (tests).
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        ttl: float = 60.0,
        timeout: float = 5.0,
        trusted_keys: Mapping[str, str] | None = None,
        verify: bool = True,
        fallback: Fallback | None = None,
        feedback_interval: float = 5.0,
        feedback_limit: int = 10_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self.ttl = ttl
        self._verify = verify
        self._fallback = fallback
        self._keys: dict[str, Ed25519PublicKey] | None = (
            {key_id: public_key(pem) for key_id, pem in trusted_keys.items()} if trusted_keys is not None else None
        )
        self._pinned = trusted_keys is not None
        self._cache: dict[str, _Cached] = {}
        self._suspended: dict[str, str] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()
        self.feedback_queue = FeedbackSender(
            lambda path, body: self._http.post(path, json=body), interval=feedback_interval, limit=feedback_limit
        )

    # -- the hot path ---------------------------------------------------------------------------------------
    def live(self, product: str) -> LiveRelease:
        """The product's live release: from memory when cached (revalidated in the background after ``ttl``).

        Raises:
            ProductSuspended: a human overseer stopped the product; serve the non-AI path.
            NoLiveRelease: nothing has been approved for the product yet.
            StewardUnavailable: the server is unreachable, nothing is cached and there is no fallback.
            AttestationError: the server sent something that is not what was approved.
        """
        reason = self._suspended.get(product)
        if reason is not None:
            raise ProductSuspended(product, reason)
        cached = self._cache.get(product)
        if cached is None:
            return self._fetch_cold(product)
        if time.monotonic() - cached.fetched_at > self.ttl:
            self._revalidate_in_background(product)
        return cached.release

    # -- fetching ---------------------------------------------------------------------------------------------
    def refresh(self, product: str) -> LiveRelease:
        """Revalidate now (blocking) and return what is live; the same errors as :meth:`live`."""
        self._fetch(product)
        return self.live(product)

    def _fetch_cold(self, product: str) -> LiveRelease:
        try:
            self._fetch(product)
        except StewardUnavailable:
            if self._fallback is not None:
                return self._fallback(product)
            raise
        return self.live(product)

    def _revalidate_in_background(self, product: str) -> None:
        with self._lock:
            if product in self._refreshing:
                return
            self._refreshing.add(product)

        def run() -> None:
            try:
                self._fetch(product)
            except StewardError:
                pass  # keep serving the last good release; the next call after ttl tries again
            finally:
                with self._lock:
                    self._refreshing.discard(product)

        threading.Thread(target=run, name=f"steward-refresh-{product}", daemon=True).start()

    def _fetch(self, product: str) -> None:
        cached = self._cache.get(product)
        headers = {"If-None-Match": cached.etag} if cached and cached.etag else {}
        try:
            response = self._http.get(f"/products/{product}/live", headers=headers)
        except httpx.HTTPError as exc:
            if cached is not None:
                cached.fetched_at = time.monotonic() - self.ttl + min(self.ttl, 5.0)  # retry in a few seconds
            raise StewardUnavailable(f"Steward is unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code == 304 and cached is not None:
            cached.fetched_at = time.monotonic()
            return
        if response.status_code == 200:
            body = response.json()
            key_id = verify_live(body, self._trusted_keys()) if self._verify else None
            release = LiveRelease.from_response(body, key_id=key_id)
            self._cache[product] = _Cached(release, response.headers.get("etag"), time.monotonic())
            self._suspended.pop(product, None)
            return
        detail = _detail(response)
        if response.status_code == 423:
            self._suspended[product] = detail
            self._cache.pop(product, None)
            raise ProductSuspended(product, detail)
        if response.status_code == 404:
            raise NoLiveRelease(detail)
        if response.status_code >= 500:
            raise StewardUnavailable(f"Steward answered {response.status_code}: {detail}")
        raise StewardError(f"Steward refused ({response.status_code}): {detail}")

    def _trusted_keys(self) -> Mapping[str, Ed25519PublicKey]:
        if self._keys is None:
            try:
                response = self._http.get("/keys")
                response.raise_for_status()
                published = response.json()["keys"]
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                raise StewardUnavailable(f"cannot read Steward's public keys: {exc}") from None
            self._keys = {k["key_id"]: public_key(k["public_key_pem"]) for k in published}
        return self._keys

    # -- feedback ---------------------------------------------------------------------------------------------
    def feedback(
        self,
        product: str,
        *,
        release: int | None = None,
        thumbs: str | None = None,
        stars: int | None = None,
        human_action: str | None = None,
        comment: str | None = None,
        tags: list[str] | None = None,
        conversation_id: str | None = None,
        input: str | None = None,
        output: str | None = None,
    ) -> None:
        """Queue feedback on one answer; it is sent in the background, in batches, and never blocks the caller.

        Args:
            release: The release that produced the answer; default the one this client serves.
            thumbs: ``"up"`` or ``"down"``; or ``stars`` from 1 to 5.
            human_action: What the person in the loop did with the output: ``accepted``, ``edited``,
                ``overrode`` (the override rate is the human-oversight evidence Steward keeps per release).
            input, output: The exchange, if the owner should be able to turn it into a test case. Steward
                redacts personal data (e-mail addresses, phone numbers, IBANs, national ids) before storing.
        """
        if release is None:
            cached = self._cache.get(product)
            if cached is None:
                raise StewardError(f"no release of '{product}' was fetched: pass release= explicitly")
            release = cached.release.number
        fields = {
            "release": release,
            "thumbs": thumbs,
            "stars": stars,
            "human_action": human_action,
            "comment": comment,
            "tags": tags,
            "conversation_id": conversation_id,
            "input": input,
            "output": output,
        }
        self.feedback_queue.add(product, {k: v for k, v in fields.items() if v is not None})

    # -- lifecycle --------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Send queued feedback (best effort) and close the connection pool."""
        self.feedback_queue.close()
        self._http.close()

    def __enter__(self) -> StewardClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:500]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)
