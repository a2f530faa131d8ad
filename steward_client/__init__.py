"""A running product's client for Steward: fetch the live release, verify it, cache it, and obey the stop button.

Importable without Steward's server (no FastAPI, no SQLAlchemy): it needs httpx, jinja2 and cryptography.
"""

from steward_client.client import StewardClient
from steward_client.errors import AttestationError, NoLiveRelease, ProductSuspended, StewardError, StewardUnavailable
from steward_client.release import LiveRelease

__all__ = [
    "AttestationError",
    "LiveRelease",
    "NoLiveRelease",
    "ProductSuspended",
    "StewardClient",
    "StewardError",
    "StewardUnavailable",
]
