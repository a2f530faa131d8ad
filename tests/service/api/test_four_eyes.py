"""Four eyes that cannot be sidestepped: hand-overs, intermediate versions and ci-owned documents (the repros)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from governance.accounts.roles import Role
from governance.audit.models import AuditEvent
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import auth, make_user
from tests.inline_worker import run_queued_chunks

POLICY = "performance-management-policy"


@pytest.fixture
def people(session):
    users = {
        "olivia": make_user(session, Role.product_owner, name="olivia"),
        "riley": make_user(session, Role.product_owner, Role.reviewer, name="riley"),
        "paula": make_user(session, Role.product_owner, name="paula"),
        "rita": make_user(session, Role.reviewer, Role.product_owner, name="rita"),
        "ravi": make_user(session, Role.reviewer, name="ravi"),
        "rosa": make_user(session, Role.reviewer, name="rosa"),
        "cid": make_user(session, Role.ci, name="cid"),
        "ada": make_user(session, Role.admin, name="ada"),
    }
    return users


def seed(session, users, owner: str) -> dict[str, str]:
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users[owner][0], shared_actor=users["paula"][0])
    session.flush()
    return {name: token for name, (_, token) in users.items()}


async def latest_release(client, token) -> dict:
    items = (await client.get("/products/goal-coach/releases", headers=auth(token))).json()["items"]
    return (await client.get(f"/releases/{items[0]['id']}", headers=auth(token))).json()


async def passed_release(client, session, token) -> int:
    run_queued_chunks(session)
    release = await latest_release(client, token)
    assert release["state"] == "passed", release["error"]
    return int(release["id"])


async def post(client, path: str, token: str, body: dict | None = None):
    return await client.post(path, json=body if body is not None else {"note": "ok"}, headers=auth(token))


async def hand_over(client, token: str, owner: str) -> None:
    handed = await client.patch("/products/goal-coach", json={"owner": owner}, headers=auth(token))
    assert handed.status_code == 200, handed.text


async def test_a_signer_who_hands_the_product_over_never_approves_it(client, session, people):
    tokens = seed(session, people, "olivia")
    await hand_over(client, tokens["ada"], "riley")
    rid = await passed_release(client, session, tokens["riley"])
    assert (await post(client, f"/releases/{rid}/signoff", tokens["riley"])).status_code == 200
    await hand_over(client, tokens["riley"], "olivia")
    # The hand-over voided riley's sign-off: the release waits for olivia's.
    assert (await latest_release(client, tokens["olivia"]))["state"] == "passed"
    assert (await post(client, f"/releases/{rid}/signoff", tokens["olivia"])).status_code == 200
    refused = await post(client, f"/releases/{rid}/approve", tokens["riley"])
    assert refused.status_code == 403, refused.text
    assert "riley owned 'goal-coach'" in refused.json()["detail"]


async def test_a_past_owner_who_signed_off_cannot_veto_either(client, session, people):
    tokens = seed(session, people, "olivia")
    await hand_over(client, tokens["ada"], "riley")
    rid = await passed_release(client, session, tokens["riley"])
    assert (await post(client, f"/releases/{rid}/signoff", tokens["riley"])).status_code == 200
    await hand_over(client, tokens["riley"], "olivia")
    assert (await post(client, f"/releases/{rid}/signoff", tokens["olivia"])).status_code == 200
    refused = await post(client, f"/releases/{rid}/reject", tokens["riley"], {"reason": "I changed my mind"})
    assert refused.status_code == 403, refused.text
    assert "riley owned 'goal-coach'" in refused.json()["detail"]
    assert (await latest_release(client, tokens["olivia"]))["state"] == "signed_off"
    # An independent reviewer still can.
    rejected = await post(client, f"/releases/{rid}/reject", tokens["ravi"], {"reason": "the clause is wrong"})
    assert rejected.status_code == 200, rejected.text


async def test_an_author_of_an_intermediate_version_never_approves(client, session, people):
    tokens = seed(session, people, "olivia")
    rid = await passed_release(client, session, tokens["olivia"])
    assert (await post(client, f"/releases/{rid}/signoff", tokens["olivia"])).status_code == 200
    for reviewer in ("ravi", "rosa"):
        assert (await post(client, f"/releases/{rid}/approve", tokens[reviewer])).status_code == 200
    assert (await post(client, f"/releases/{rid}/go-live", tokens["olivia"])).status_code == 200

    head = (await client.get(f"/documents/{POLICY}", headers=auth(tokens["paula"]))).json()["content"]
    handed = await client.put(f"/documents/{POLICY}", json={**head, "owner": "rita"}, headers=auth(tokens["paula"]))
    assert handed.status_code == 200, handed.text
    clause = {**head, "content": head["content"] + "\n\n14. Reviewers decide alone.\n", "message": "rita's clause"}
    assert (await client.put(f"/documents/{POLICY}", json=clause, headers=auth(tokens["rita"]))).status_code == 201
    spaces = {**clause, "content": clause["content"] + "\n", "message": "whitespace"}
    assert (await client.put(f"/documents/{POLICY}", json=spaces, headers=auth(tokens["ada"]))).status_code == 201

    rid = await passed_release(client, session, tokens["olivia"])
    assert (await post(client, f"/releases/{rid}/signoff", tokens["olivia"])).status_code == 200
    refused = await post(client, f"/releases/{rid}/approve", tokens["rita"])
    assert refused.status_code == 403, refused.text
    assert f"document {POLICY} v2" in refused.json()["detail"]


async def test_a_new_owner_never_takes_live_what_they_did_not_sign_off(client, session, people):
    tokens = seed(session, people, "olivia")
    rid = await passed_release(client, session, tokens["olivia"])
    assert (await post(client, f"/releases/{rid}/signoff", tokens["olivia"])).status_code == 200
    for reviewer in ("ravi", "rosa"):
        assert (await post(client, f"/releases/{rid}/approve", tokens[reviewer])).status_code == 200
    await hand_over(client, tokens["ada"], "paula")

    refused = await post(client, f"/releases/{rid}/go-live", tokens["paula"])
    assert refused.status_code == 409, refused.text
    release = await latest_release(client, tokens["paula"])
    assert release["state"] == "passed"
    query = select(AuditEvent.action).where(AuditEvent.product_slug == "goal-coach").order_by(AuditEvent.seq)
    actions = list(session.scalars(query))
    assert actions[-2:] == ["release.signoff_voided", "release.signoff_required"]
    # The new owner signs off; the earlier approvals belonged to the voided sign-off.
    assert (await post(client, f"/releases/{rid}/signoff", tokens["paula"])).status_code == 200
    assert (await latest_release(client, tokens["paula"]))["state"] == "signed_off"


async def test_documents_are_owned_only_by_admins_and_product_owners(client, session, people):
    tokens = seed(session, people, "olivia")
    head = (await client.get(f"/documents/{POLICY}", headers=auth(tokens["paula"]))).json()["content"]
    for who in ("cid", "ravi"):
        refused = await client.put(f"/documents/{POLICY}", json={**head, "owner": who}, headers=auth(tokens["paula"]))
        assert refused.status_code == 422, refused.text
        assert f"'{who}' cannot own a document" in refused.json()["detail"]
    created = await client.put("/documents/ci-doc", json={**head, "owner": "cid"}, headers=auth(tokens["ada"]))
    assert created.status_code == 422, created.text
    clause = {**head, "content": head["content"] + "\n\nci was here.\n"}
    assert (await client.put(f"/documents/{POLICY}", json=clause, headers=auth(tokens["cid"]))).status_code == 403
