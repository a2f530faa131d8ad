"""Browser sessions on the server: signing out, idling and revoking the token end them; users manage their own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.accounts import browser_sessions, users
from governance.accounts.roles import Role
from governance.accounts.users import authenticated_token
from governance.kernel.db import utcnow
from governance.kernel.errors import NotFound
from tests.factories import make_user

IDLE = timedelta(minutes=60)


def signed_in(session, *roles: Role):
    user, token = make_user(session, *roles)
    row, key = browser_sessions.start_session(session, authenticated_token(session, token), user_agent="pytest")
    return user, row, key


def test_a_started_session_is_current_until_signed_out(session):
    _, row, key = signed_in(session, Role.reviewer)
    assert browser_sessions.current_session(session, key, idle=IDLE) is row
    browser_sessions.end_session(session, key)
    assert browser_sessions.current_session(session, key, idle=IDLE) is None
    assert row.key_hash != key and key not in row.key_hash


def test_a_session_left_idle_past_the_limit_ends(session):
    _, _, key = signed_in(session, Role.reviewer)
    later = utcnow() + IDLE + timedelta(seconds=1)
    assert browser_sessions.current_session(session, key, idle=IDLE, now=later) is None
    assert browser_sessions.current_session(session, key, idle=IDLE) is not None


def test_use_keeps_a_session_alive(session):
    _, row, key = signed_in(session, Role.reviewer)
    soon = utcnow() + timedelta(minutes=50)
    assert browser_sessions.current_session(session, key, idle=IDLE, now=soon) is row
    assert browser_sessions.current_session(session, key, idle=IDLE, now=soon + timedelta(minutes=50)) is row


def test_revoking_the_token_ends_its_sessions(session):
    user, row, key = signed_in(session, Role.reviewer)
    users.revoke_token(session, user, row.token_id)
    assert browser_sessions.current_session(session, key, idle=IDLE) is None


def test_users_list_and_revoke_only_their_own_sessions(session):
    alice, alice_row, alice_key = signed_in(session, Role.reviewer)
    bob, bob_row, _ = signed_in(session, Role.admin)
    assert [row.id for row in browser_sessions.list_sessions(session, alice)] == [alice_row.id]
    with pytest.raises(NotFound):
        browser_sessions.revoke_session(session, alice, bob_row.id)
    with pytest.raises(NotFound):
        browser_sessions.revoke_session(session, bob, alice_row.id)  # admins too: a session is its user's
    browser_sessions.revoke_session(session, alice, alice_row.id)
    assert browser_sessions.current_session(session, alice_key, idle=IDLE) is None
    assert browser_sessions.list_sessions(session, alice) == []
