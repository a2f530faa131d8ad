"""Users and API tokens: only hashes are kept, revoked tokens and disabled users fail, admins manage others."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from governance.accounts import users as accounts
from governance.accounts.models import ApiToken
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.audit.reading import export_events, list_events
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, Forbidden, NotFound, Unauthenticated
from governance.kernel.pagination import decode_cursor
from tests.factories import make_user


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def stored_tokens(session, user) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def audit_actions(session, admin) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.subject) for e in list_events(session, admin, after=0, limit=1000).items]


def test_a_token_is_stored_only_as_its_sha256(session):
    user, token = make_user(session, Role.reviewer)
    _, second = accounts.create_token(session, user, user.name, label="laptop")
    rows = stored_tokens(session, user)
    assert [row.token_hash for row in rows] == [sha256(token), sha256(second)]
    for row, raw in zip(rows, [token, second], strict=True):
        assert row.prefix == raw[:8]
        assert raw not in {row.token_hash, row.prefix, row.label}
    assert token.startswith(accounts.TOKEN_PREFIX) and len(token) > 40
    assert token != second
    # Nor does the audit trail keep them: it names the token by id and prefix.
    trail = repr(list(export_events(session)))
    assert token not in trail and second not in trail


def test_a_token_authenticates_its_user(session):
    user, token = make_user(session, Role.reviewer)
    make_user(session, Role.reviewer)
    assert accounts.authenticate(session, token) is user


@pytest.mark.parametrize("token", [None, "", "stw_unknown", "Bearer stw_x"])
def test_a_missing_or_unknown_token_is_unauthenticated(session, token):
    make_user(session, Role.reviewer)
    with pytest.raises(Unauthenticated) as refused:
        accounts.authenticate(session, token)
    assert refused.value.status == 401


def test_a_revoked_token_fails_and_the_users_other_tokens_still_work(session):
    user, token = make_user(session, Role.reviewer)
    row, other = accounts.create_token(session, user, user.name, label="ci")
    first = stored_tokens(session, user)[0]
    revoked = accounts.revoke_token(session, user, first.id)
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthenticated):
        accounts.authenticate(session, token)
    assert accounts.authenticate(session, other) is user
    # Revoking again changes nothing and records nothing more.
    accounts.revoke_token(session, user, first.id)
    admin, _ = make_user(session, Role.admin)
    assert [a for _, a, _ in audit_actions(session, admin)].count("token.revoked") == 1
    assert row.revoked_at is None


def test_a_disabled_user_cannot_authenticate_with_any_token(session):
    user, token = make_user(session, Role.product_owner)
    _, other = accounts.create_token(session, user, user.name)
    user.disabled_at = utcnow()
    session.flush()
    for each in (token, other):
        with pytest.raises(Unauthenticated):
            accounts.authenticate(session, each)


def test_a_non_admin_cannot_create_users(session):
    owner, _ = make_user(session, Role.product_owner, Role.reviewer, Role.ci)
    with pytest.raises(Forbidden) as refused:
        accounts.create_user(session, owner, UserCreate(name="newcomer", roles=[Role.reviewer]))
    assert refused.value.status == 403
    assert "creating users requires the role admin" in refused.value.detail
    with pytest.raises(NotFound):
        accounts.get_user(session, "newcomer")


def test_an_admin_creates_users_and_the_trail_names_them(session):
    admin, _ = make_user(session, Role.admin)
    user, token = accounts.create_user(
        session, admin, UserCreate(name="rita", roles=[Role.reviewer, Role.reviewer, Role.ci])
    )
    assert user.roles == ["ci", "reviewer"]  # sorted, without duplicates
    assert user.display_name == "rita"
    assert accounts.authenticate(session, token) is user
    assert (admin.name, "user.created", "rita") in audit_actions(session, admin)


def test_a_duplicate_name_is_a_conflict_naming_the_field(session):
    admin, _ = make_user(session, Role.admin)
    make_user(session, Role.reviewer, name="rita")
    for actor in (admin, None):
        with pytest.raises(Conflict) as refused:
            accounts.create_user(session, actor, UserCreate(name="rita", roles=[Role.admin]))
        assert refused.value.status == 409
        assert refused.value.problems[0].field == "name"


def test_a_non_admin_cannot_issue_a_token_for_someone_else(session):
    owner, _ = make_user(session, Role.product_owner)
    other, _ = make_user(session, Role.reviewer)
    with pytest.raises(Forbidden) as refused:
        accounts.create_token(session, owner, other.name)
    assert "issuing tokens for another user requires the role admin" in refused.value.detail
    assert len(stored_tokens(session, other)) == 1


def test_an_admin_issues_and_revokes_tokens_for_others(session):
    admin, _ = make_user(session, Role.admin)
    other, _ = make_user(session, Role.reviewer)
    row, token = accounts.create_token(session, admin, other.name, label="rotated")
    assert row.user_id == other.id and row.label == "rotated"
    assert accounts.authenticate(session, token) is other
    accounts.revoke_token(session, admin, row.id)
    with pytest.raises(Unauthenticated):
        accounts.authenticate(session, token)
    actions = audit_actions(session, admin)
    assert (admin.name, "token.issued", other.name) in actions
    assert (admin.name, "token.revoked", other.name) in actions


def test_a_non_admin_cannot_revoke_someone_elses_token(session):
    owner, _ = make_user(session, Role.product_owner)
    other, token = make_user(session, Role.reviewer)
    with pytest.raises(Forbidden) as refused:
        accounts.revoke_token(session, owner, stored_tokens(session, other)[0].id)
    assert "revoking another user's token requires the role admin" in refused.value.detail
    assert accounts.authenticate(session, token) is other


def test_revoking_an_unknown_token_is_not_found(session):
    admin, _ = make_user(session, Role.admin)
    with pytest.raises(NotFound):
        accounts.revoke_token(session, admin, 10**9)


def test_only_admins_list_users_and_the_pages_cover_everyone_once(session):
    admin, _ = make_user(session, Role.admin)
    reviewer, _ = make_user(session, Role.reviewer)
    names = [make_user(session, Role.reviewer)[0].name for _ in range(4)]
    with pytest.raises(Forbidden, match="listing users requires the role admin"):
        accounts.list_users(session, reviewer, after=0, limit=10)
    listed, after = [], 0
    while True:
        page = accounts.list_users(session, admin, after=after, limit=2)
        assert len(page.items) <= 2
        listed.extend(user.name for user in page.items)
        if page.next is None:
            break
        after = decode_cursor(page.next)
    assert listed[-4:] == names
    assert len(listed) == len(set(listed))
    assert {admin.name, reviewer.name} <= set(listed)


def test_a_non_admin_asking_for_another_users_token_learns_nothing_of_who_exists(session):
    user, _ = make_user(session, Role.reviewer)
    for name in ("nobody-by-this-name", make_user(session, Role.reviewer)[0].name):
        with pytest.raises(Forbidden):
            accounts.create_token(session, user, name)


def test_an_admin_cannot_revoke_their_own_last_valid_token(session):
    admin, token = make_user(session, Role.admin)
    [only] = stored_tokens(session, admin)
    with pytest.raises(Conflict) as refused:
        accounts.revoke_token(session, admin, only.id)
    assert refused.value.status == 409 and "last valid token" in str(refused.value)
    assert only.revoked_at is None and accounts.authenticate(session, token) is admin
    # With a second token issued first, the first one may go; then the second is the last again.
    second, _ = accounts.create_token(session, admin, admin.name, label="rotated")
    assert accounts.revoke_token(session, admin, only.id).revoked_at is not None
    with pytest.raises(Conflict):
        accounts.revoke_token(session, admin, second.id)


def test_a_user_who_is_not_an_admin_may_revoke_their_last_token(session):
    user, token = make_user(session, Role.product_owner)
    [only] = stored_tokens(session, user)
    assert accounts.revoke_token(session, user, only.id).revoked_at is not None
    with pytest.raises(Unauthenticated):
        accounts.authenticate(session, token)
