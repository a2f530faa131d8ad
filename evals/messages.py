"""Chat messages as they are rendered, cached and sent to providers."""

from __future__ import annotations

from typing import Literal, TypedDict

Role = Literal["system", "user", "assistant", "developer"]
"""A chat message's role."""


class Message(TypedDict):
    """One rendered chat message (a plain dict, as provider APIs take it)."""

    role: Role
    content: str
