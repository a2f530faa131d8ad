"""Runtime users name the products they serve: the names are checked here, where products are known."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.accounts import users
from governance.accounts.models import User
from governance.accounts.schemas import UserCreate
from governance.catalog.products import product_or_none
from governance.kernel.errors import Invalid


def create_user(session: Session, actor: User | None, data: UserCreate) -> tuple[User, str]:
    """Create a user (``governance.accounts.users.create_user``), refusing a runtime scope naming an unknown product."""
    for index, slug in enumerate(data.products):
        if product_or_none(session, slug) is None:
            raise Invalid(f"no product '{slug}' to serve", field=f"products[{index}]")
    return users.create_user(session, actor, data)
