"""A live release as a running product uses it: the approved prompts, rendered with the approved context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

# The server renders prompts in a sandbox with these options; rendering here with the same ones gives the same text.
_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class LiveRelease:
    """One approved release of a product, verified against its manifest and attestation."""

    product: str
    number: int
    manifest_hash: str
    went_live_at: datetime
    approvers: tuple[str, ...]
    signed_off_by: str | None
    model: dict[str, Any]
    prompts: dict[str, str]
    context: dict[str, Any] = field(repr=False)
    """``documents`` and ``processes`` exactly as the server's eval runs render them."""
    variables: tuple[str, ...] = ()
    """The other variables the prompts read: the application supplies them."""
    key_id: str | None = None
    """The key that signed the attestation, when it was verified."""

    @classmethod
    def from_response(cls, body: dict[str, Any], *, key_id: str | None) -> LiveRelease:
        def entries(section: str) -> dict[str, Any]:
            return {slug: {k: v for k, v in e.items() if k != "sha256"} for slug, e in body[section].items()}

        return cls(
            product=body["product"],
            number=int(body["release"]),
            manifest_hash=body["manifest_hash"],
            went_live_at=datetime.fromisoformat(body["went_live_at"].replace("Z", "+00:00")),
            approvers=tuple(body["approvers"]),
            signed_off_by=body.get("signed_off_by"),
            model=dict(body["model"]),
            prompts={name: entry["template"] for name, entry in body["prompts"].items()},
            context={"documents": entries("documents"), "processes": entries("processes")},
            variables=tuple(body.get("context", {}).get("variables", ())),
            key_id=key_id,
        )

    @cached_property
    def _templates(self) -> dict[str, Template]:
        return {name: _ENVIRONMENT.from_string(source) for name, source in self.prompts.items()}

    def render(self, prompt: str, **variables: Any) -> str:
        """Render one of the release's prompts with the approved documents and processes and ``variables``.

        Raises:
            KeyError: the release has no such prompt.
            jinja2.UndefinedError: a variable the prompt reads was not given.
        """
        return self._templates[prompt].render({**self.context, **variables})

    def system_prompt(self, **variables: Any) -> str:
        """The ``system`` prompt, rendered: what the product sends as its system message."""
        return self.render("system", **variables)
