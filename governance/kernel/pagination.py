"""Keyset pages: what a list endpoint returns, and the opaque cursor that asks for the next one."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from governance.kernel.errors import Invalid

T = TypeVar("T")


class PageView(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


def encode_cursor(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The key a page starts after; 0 for the first page."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid("is not a cursor this API returned", field="cursor") from exc
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise Invalid("is not a cursor this API returned", field="cursor")
    return after


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


def page_of(rows: list[T], limit: int, key: Callable[[T], int]) -> Page[T]:
    """Build a page from up to ``limit + 1`` rows: the extra row only tells that there is a next page."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(items=rows, next=encode_cursor(key(rows[-1])))
    return Page(items=rows, next=None)
