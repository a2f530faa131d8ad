"""Small factories for test data, going through the same domain functions as the API."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from governance.accounts import users as accounts
from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.catalog import products
from governance.catalog.schemas import ModelSettings, ProductCreate

_counter = itertools.count(1)


def make_user(session: Session, *roles: Role | str, name: str | None = None) -> tuple[User, str]:
    """A user with the given roles and their token."""
    name = name or f"user{next(_counter)}"
    user, token = accounts.create_user(session, None, UserCreate(name=name, roles=list(roles) or [Role.reviewer]))
    session.flush()
    return user, token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def product_payload(slug: str = "goal-coach", **overrides) -> dict:
    payload = {
        "slug": slug,
        "name": "Goal-setting coach",
        "description": "Helps employees draft SMART goals.",
        "intended_purpose": "Drafting assistance for yearly goals; no decisions about people.",
        "risk_tier": "high",
        "model": {"provider": "offline", "name": "coach", "temperature": 0.2, "max_tokens": 600},
    }
    payload.update(overrides)
    return payload


def make_product(session: Session, owner: User, slug: str | None = None) -> str:
    slug = slug or f"product-{next(_counter)}"
    data = ProductCreate(
        slug=slug,
        name=slug.title(),
        risk_tier="high",
        model=ModelSettings(provider="offline", name="m"),
    )
    products.create_product(session, owner, data)
    session.flush()
    return slug


def suite_spec(name: str = "quality", *, cases: int = 2, expect: str = "goal") -> dict:
    return {
        "version": 1,
        "name": name,
        "prompt": "system",
        "model": {"provider": "offline", "name": "coach"},
        "threshold": {"pass_rate": 0.9},
        "cases": [
            {
                "id": f"case-{i}",
                "vars": {"employee_message": f"message {i}"},
                "asserts": [{"type": "icontains", "value": expect}],
                "offline_output": f"A measurable goal number {i}.",
            }
            for i in range(cases)
        ],
    }
