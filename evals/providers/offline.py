"""The offline provider: deterministic answers with no key and no network, labelled offline everywhere."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from evals.messages import Message
from evals.providers.base import ChatRequest, Completion, ProviderSetupError, provider
from evals.providers.config import ProviderConfig

OFFLINE_MODEL = "offline"


def offline_answer(messages: Sequence[Message]) -> str:
    """A deterministic stand-in answer for messages no script covers.

    It names its digest so two different inputs never look alike, and echoes the start of the last
    user message so a reader sees what it answered.
    """
    digest = hashlib.sha256(repr(messages).encode()).hexdigest()[:12]
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    excerpt = " ".join(last_user.split())[:160]
    return f"[offline answer {digest}] {excerpt}"


class OfflineProvider:
    """Answers scripted outputs by case id, else :func:`offline_answer`; never touches a network."""

    name = "offline"
    offline = True
    # answers cost nothing to recompute and must reflect the current scripts, so no caching
    cacheable = False

    def __init__(self, model: str | None, scripted: Mapping[str, str]) -> None:
        self.model = model or OFFLINE_MODEL
        self._scripted = scripted

    async def complete(self, request: ChatRequest) -> Completion:
        """Answer from the script, or deterministically from the input."""
        if request.case_id is not None and request.case_id in self._scripted:
            text = self._scripted[request.case_id]
        else:
            text = offline_answer(request.messages)
        prompt_words = sum(len(m["content"].split()) for m in request.messages)
        return Completion(text=text, prompt_tokens=prompt_words, completion_tokens=len(text.split()), cost_usd=0.0)

    async def aclose(self) -> None:
        """Nothing to release."""


@provider("offline")
def create_offline(model: str | None, config: ProviderConfig, *, scripted: Mapping[str, str]) -> OfflineProvider:
    """The offline provider; its token counts are word counts and its cost is zero."""
    if not isinstance(scripted, Mapping):
        raise ProviderSetupError("offline provider needs a mapping of scripted outputs")
    return OfflineProvider(model, scripted)
