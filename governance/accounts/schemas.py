"""Payloads and views of users and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from governance.accounts.models import ApiToken, BrowserSession, User
from governance.accounts.roles import Role
from governance.kernel.fields import Slug, Strict, Text, UserName


class UserCreate(Strict):
    name: UserName
    display_name: Annotated[Text, Field(default="", max_length=200)]
    email: Annotated[Text | None, Field(default=None, max_length=320)]
    roles: list[Role] = Field(
        min_length=1, description="One or more of admin, product_owner, reviewer, ci; or runtime alone."
    )
    products: list[Slug] = Field(
        default_factory=list,
        max_length=100,
        description="For a runtime user: the products whose live release it reads and sends feedback on.",
    )


class UserView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    display_name: str
    email: str | None
    roles: list[str]
    products: list[str] = Field(description="For a runtime user, the products it serves; else empty.")
    created_at: datetime


class TokenView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    label: str
    created_at: datetime
    revoked_at: datetime | None


class SessionView(BaseModel):
    """A signed-in browser of the caller's."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_agent: str = Field(description="The browser that signed in, as it named itself.")
    created_at: datetime
    last_seen_at: datetime = Field(description="When it was last used (kept to the minute).")
    revoked_at: datetime | None


class CreatedUserView(UserView):
    token: str = Field(description="The API token. Shown once: Steward keeps only its hash.")


def user_view(user: User) -> UserView:
    return UserView.model_validate(user)


def token_view(token: ApiToken) -> TokenView:
    return TokenView.model_validate(token)


def session_view(row: BrowserSession) -> SessionView:
    return SessionView.model_validate(row)
