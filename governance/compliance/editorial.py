"""Editorial changes: content identical once whitespace and punctuation are set aside.

A change is editorial by this rule alone (``RULE``); any other change is substantial. A change to a suite or to
the model is never editorial, whatever it looks like: it changes what the evidence means.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from governance.kernel.canonical import canonical_json

RULE = "identical after removing whitespace and punctuation (Unicode categories Z*, P* and control characters)"
NEVER_EDITORIAL = frozenset({"suite", "model"})


def normalise(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "ZPC" and not ch.isspace())


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return "\x1f".join(f"{key}={_text_of(content[key])}" for key in sorted(content))
    if isinstance(content, list):
        return "\x1f".join(_text_of(item) for item in content)
    return canonical_json(content)


def is_editorial(kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether changing ``before`` into ``after`` (a component's content) is editorial."""
    if kind in NEVER_EDITORIAL:
        return False
    return normalise(_text_of(before)) == normalise(_text_of(after))
