"""The public keys Steward signs with, so anyone can check an attestation or an audit checkpoint offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from service.signing_keys import signing_key

router = APIRouter(tags=["live"])


class PublicKeyView(BaseModel):
    key_id: str = Field(description="Names the key in attestations and checkpoints: 'ed25519:' + sha256 prefix.")
    algorithm: str = "Ed25519"
    public_key_pem: str


class KeysView(BaseModel):
    keys: list[PublicKeyView]


@router.get("/keys", summary="The public keys attestations and audit checkpoints are signed with (no token needed).")
def list_keys(request: Request) -> KeysView:
    """The public keys attestations and audit checkpoints are signed with (no token needed)."""
    key = signing_key(request.app.state.settings)
    return KeysView(keys=[PublicKeyView(key_id=key.key_id, public_key_pem=key.public.pem())])
