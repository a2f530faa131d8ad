"""What a running product receives: its live release, everything needed to behave exactly as approved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from governance.kernel.fields import Strict, Text


class PromptEntry(BaseModel):
    version: int
    sha256: str = Field(description="sha256 of the canonical JSON of {'template': ...}, as in the manifest.")
    template: str


class ContextShape(BaseModel):
    """The variables the prompts are rendered with: ``documents`` and ``processes`` come with the release."""

    documents: list[str] = Field(
        description="Slugs under ``documents``; each holds title, content, content_type, version."
    )
    processes: list[str] = Field(
        description="Slugs under ``processes``; each holds name, description, steps[] (name, actor, description), "
        "documents, version."
    )
    variables: list[str] = Field(description="The other variables the prompts read: the application supplies them.")


class Attestation(BaseModel):
    """Steward's signature over what went live and who approved it; check it with a key from GET /keys."""

    payload: dict[str, Any] = Field(
        description="product, release, manifest_hash, went_live_at, signed_off_by, approvers: signed as canonical "
        "JSON (sorted keys, no spaces, UTF-8)."
    )
    algorithm: str = Field(default="Ed25519")
    key_id: str
    signature: str = Field(description="Base64 of the Ed25519 signature over the payload's canonical JSON.")


class LiveReleaseView(BaseModel):
    """The approved release a running product serves."""

    product: str
    release: int = Field(description="The release's number within the product.")
    release_id: int
    manifest_hash: str
    went_live_at: datetime
    signed_off_by: str | None
    approvers: list[str]
    model: dict[str, Any] = Field(description="Provider, model name and sampling settings, as approved.")
    prompts: dict[str, PromptEntry]
    documents: dict[str, dict[str, Any]] = Field(
        description="Each linked document at the manifest's version: title, content, content_type, version, sha256."
    )
    processes: dict[str, dict[str, Any]] = Field(
        description="Each linked process at the manifest's version: name, description, steps, documents, "
        "version, sha256."
    )
    context: ContextShape
    manifest: dict[str, Any] = Field(description="The release's manifest: its hash is manifest_hash.")
    attestation: Attestation | None = Field(default=None, description="Present when the server holds a signing key.")


class SuspendRequest(Strict):
    reason: Text = Field(
        min_length=10, max_length=2000, description="Why the product is stopped, for everyone to read."
    )


class ResumeRequest(Strict):
    note: Text = Field(min_length=10, max_length=2000, description="Why it is safe to start the product again.")


class SuspensionView(BaseModel):
    product: str
    suspended: bool
    reason: str | None = None
    suspended_by: str | None = None
    suspended_at: datetime | None = None
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None
