"""Field types every payload shares: text without NUL, slugs, names, messages, and the strict base model."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text and no HR content needs it: refuse it at the door.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$"),
    Field(description="3 to 64 characters: lowercase letters, digits and '-', not starting or ending with '-'."),
]


ComponentName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$"),
    Field(description="1 to 64 characters: lowercase letters, digits, '_', '.', '-'."),
]


UserName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$"),
    Field(description="2 to 64 characters: lowercase letters, digits, '_', '.', '-'."),
]


Message = Annotated[Text, Field(default="", max_length=2000, description="Why this version exists.")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
