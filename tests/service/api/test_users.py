from __future__ import annotations

from sqlalchemy import select

from governance.accounts import browser_sessions
from governance.accounts.models import ApiToken
from governance.accounts.roles import Role
from governance.accounts.users import authenticated_token
from tests.factories import auth, make_user


async def test_admin_creates_user_and_the_token_is_shown_once_and_stored_hashed(client, session):
    _, admin = make_user(session, Role.admin)
    response = await client.post("/users", json={"name": "nina", "roles": ["reviewer"]}, headers=auth(admin))
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token.startswith("stw_") and len(token) >= 43
    me = await client.get("/me", headers=auth(token))
    assert me.json()["name"] == "nina" and me.json()["roles"] == ["reviewer"]
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    listed = await client.get("/me/tokens", headers=auth(token))
    assert "token" not in listed.json()[0] and token.startswith(listed.json()[0]["prefix"])


async def test_only_admins_create_users(client, session):
    for role in (Role.product_owner, Role.reviewer, Role.ci):
        _, token = make_user(session, role)
        response = await client.post("/users", json={"name": "x-user", "roles": ["admin"]}, headers=auth(token))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "admin" in response.json()["detail"]


async def test_duplicate_user_name_is_a_conflict(client, session):
    _, admin = make_user(session, Role.admin)
    make_user(session, Role.reviewer, name="taken")
    response = await client.post("/users", json={"name": "taken", "roles": ["reviewer"]}, headers=auth(admin))
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "name", "reason": "a user named 'taken' already exists"}]


async def test_missing_bad_and_revoked_tokens_are_401(client, session):
    _, token = make_user(session, Role.reviewer)
    missing = await client.get("/me")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/me", headers=auth("stw_not-a-token"))).status_code == 401
    token_id = (await client.get("/me/tokens", headers=auth(token))).json()[0]["id"]
    revoked = await client.delete(f"/tokens/{token_id}", headers=auth(token))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await client.get("/me", headers=auth(token))
    assert after.status_code == 401 and "revoked" in after.json()["detail"]


async def test_users_cannot_revoke_each_others_tokens(client, session):
    _, alice = make_user(session, Role.reviewer)
    _, bob = make_user(session, Role.reviewer)
    bob_token_id = (await client.get("/me/tokens", headers=auth(bob))).json()[0]["id"]
    response = await client.delete(f"/tokens/{bob_token_id}", headers=auth(alice))
    assert response.status_code == 403
    assert (await client.get("/me", headers=auth(bob))).status_code == 200


async def test_user_list_is_paginated_for_admins(client, session):
    _, admin = make_user(session, Role.admin)
    for _ in range(3):
        make_user(session, Role.reviewer)
    first = await client.get("/users", params={"limit": 2}, headers=auth(admin))
    assert first.status_code == 200 and len(first.json()["items"]) == 2
    second = await client.get("/users", params={"limit": 2, "cursor": first.json()["next"]}, headers=auth(admin))
    names = [u["name"] for u in first.json()["items"] + second.json()["items"]]
    assert len(names) == len(set(names)) == 4
    assert second.json()["next"] is None


async def test_users_see_and_sign_out_their_own_browser_sessions(client, session):
    _, token = make_user(session, Role.reviewer)
    _, other_token = make_user(session, Role.admin)
    row, _ = browser_sessions.start_session(session, authenticated_token(session, token), user_agent="Firefox")
    session.flush()
    listed = await client.get("/me/sessions", headers=auth(token))
    assert listed.status_code == 200
    assert [(item["id"], item["user_agent"]) for item in listed.json()] == [(row.id, "Firefox")]
    refused = await client.delete(f"/me/sessions/{row.id}", headers=auth(other_token))
    assert refused.status_code == 404
    revoked = await client.delete(f"/me/sessions/{row.id}", headers=auth(token))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await client.get("/me/sessions", headers=auth(token))).json() == []


async def test_an_admin_revoking_their_own_last_token_is_409_with_the_reason(client, session):
    _, admin = make_user(session, Role.admin)
    token_id = (await client.get("/me/tokens", headers=auth(admin))).json()[0]["id"]
    response = await client.delete(f"/tokens/{token_id}", headers=auth(admin))
    assert response.status_code == 409 and "last valid token" in response.json()["detail"]
    assert (await client.get("/me", headers=auth(admin))).status_code == 200
