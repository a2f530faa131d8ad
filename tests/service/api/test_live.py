"""After go-live through the API: the attested live release, conditional fetches, runtime tokens and the stop button."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from governance.accounts.roles import Role
from governance.kernel.canonical import canonical_json, content_sha256
from service.bundle import load_bundle
from service.seed import publish_bundle
from service.settings import PROJECT_ROOT
from tests.factories import auth, make_user
from tests.inline_worker import run_queued_chunks
from tests.service.api.test_query_counts import counting

POLICY = "performance-management-policy"


@pytest.fixture
def people(session) -> dict[str, str]:
    users = {
        "olivia": make_user(session, Role.product_owner, name="olivia"),
        "paula": make_user(session, Role.product_owner, name="paula"),
        "ravi": make_user(session, Role.reviewer, name="ravi"),
        "rosa": make_user(session, Role.reviewer, name="rosa"),
        "rex": make_user(session, Role.reviewer, name="rex"),
        "ada": make_user(session, Role.admin, name="ada"),
    }
    bundle = load_bundle(PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml")
    publish_bundle(session, bundle, product_actor=users["olivia"][0], shared_actor=users["paula"][0])
    session.flush()
    return {name: token for name, (_, token) in users.items()}


async def take_live(client, session, tokens) -> dict:
    """Take the newest release of goal-coach through sign-off and two approvals to live."""
    run_queued_chunks(session)
    items = (await client.get("/products/goal-coach/releases", headers=auth(tokens["olivia"]))).json()["items"]
    rid = items[0]["id"]
    steps = [("signoff", "olivia"), ("approve", "ravi"), ("approve", "rosa"), ("go-live", "olivia")]
    for step, who in steps:
        done = await client.post(f"/releases/{rid}/{step}", json={"note": "ok"}, headers=auth(tokens[who]))
        assert done.status_code == 200, (step, done.text)
    return (await client.get(f"/releases/{rid}", headers=auth(tokens["olivia"]))).json()


async def runtime_token(client, tokens, *products: str) -> str:
    body = {"name": "coach-app", "roles": ["runtime"], "products": list(products)}
    created = await client.post("/users", json=body, headers=auth(tokens["ada"]))
    assert created.status_code == 201, created.text
    assert created.json()["products"] == sorted(products)
    return str(created.json()["token"])


async def test_the_live_release_is_exactly_what_was_approved_and_its_attestation_verifies(client, session, people):
    release = await take_live(client, session, people)
    fetched = await client.get("/products/goal-coach/live", headers=auth(people["olivia"]))
    assert fetched.status_code == 200, fetched.text
    live = fetched.json()
    assert live["release"] == release["number"] and live["manifest_hash"] == release["manifest_hash"]
    assert live["approvers"] == ["ravi", "rosa"] and live["signed_off_by"] == "olivia"
    assert fetched.headers["etag"] == f'"r{release["number"]}-{release["manifest_hash"]}"'
    assert "max-age" in fetched.headers["cache-control"]

    # Every content hashes to its manifest entry, and the manifest to the hash that was approved.
    manifest = live["manifest"]
    assert content_sha256(manifest) == live["manifest_hash"]
    for name, prompt in live["prompts"].items():
        assert (
            content_sha256({"template": prompt["template"]}) == prompt["sha256"] == manifest["prompts"][name]["sha256"]
        )
    for slug, document in live["documents"].items():
        content = {k: document[k] for k in ("title", "content", "content_type")}
        assert content_sha256(content) == document["sha256"] == manifest["documents"][slug]["sha256"]
    assert POLICY in live["documents"] and live["context"]["documents"] == sorted(manifest["documents"])
    assert live["context"]["variables"] == ["company"]
    assert "documents" not in live["context"]["variables"]

    # The attestation: Ed25519 over the payload's canonical JSON, with a key GET /keys publishes.
    attestation = live["attestation"]
    assert attestation["payload"]["manifest_hash"] == live["manifest_hash"]
    assert attestation["payload"]["approvers"] == ["ravi", "rosa"]
    keys = (await client.get("/keys")).json()["keys"]
    [key] = [k for k in keys if k["key_id"] == attestation["key_id"]]
    public = load_pem_public_key(key["public_key_pem"].encode())
    message = canonical_json(attestation["payload"]).encode()
    public.verify(base64.b64decode(attestation["signature"]), message)  # raises when it does not verify
    tampered = canonical_json({**attestation["payload"], "approvers": ["olivia"]}).encode()
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(attestation["signature"]), tampered)


async def test_a_conditional_fetch_is_a_304_until_another_release_goes_live(client, session, people):
    await take_live(client, session, people)
    first = await client.get("/products/goal-coach/live", headers=auth(people["olivia"]))
    etag = first.headers["etag"]
    same = await client.get("/products/goal-coach/live", headers={**auth(people["olivia"]), "If-None-Match": etag})
    assert same.status_code == 304 and same.headers["etag"] == etag and not same.content

    head = (await client.get(f"/documents/{POLICY}", headers=auth(people["paula"]))).json()["content"]
    change = {**head, "content": head["content"] + "\n\n14. Goals may be revised at mid-year.\n", "message": "mid-year"}
    assert (await client.put(f"/documents/{POLICY}", json=change, headers=auth(people["paula"]))).status_code == 201
    # A release that is only cut changes nothing for employees.
    still = await client.get("/products/goal-coach/live", headers={**auth(people["olivia"]), "If-None-Match": etag})
    assert still.status_code == 304
    await take_live(client, session, people)
    moved = await client.get("/products/goal-coach/live", headers={**auth(people["olivia"]), "If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["etag"] != etag
    assert "14. Goals may be revised at mid-year." in moved.json()["documents"][POLICY]["content"]


async def test_no_live_release_is_a_404_naming_why(client, session, people):
    refused = await client.get("/products/goal-coach/live", headers=auth(people["olivia"]))
    assert refused.status_code == 404 and "no live release" in refused.json()["detail"]
    assert (await client.get("/products/nope-nope/live", headers=auth(people["olivia"]))).status_code == 404


async def test_a_runtime_token_reads_its_products_live_release_and_nothing_else(client, session, people):
    await take_live(client, session, people)
    token = await runtime_token(client, people, "goal-coach")
    assert (await client.get("/products/goal-coach/live", headers=auth(token))).status_code == 200
    for method, path in [
        ("GET", "/products"),
        ("GET", "/products/goal-coach"),
        ("GET", "/me"),
        ("GET", f"/documents/{POLICY}"),
        ("GET", "/products/goal-coach/suspension"),
        ("POST", "/products/goal-coach/suspend"),
        ("GET", "/audit"),
    ]:
        refused = await client.request(method, path, json={"reason": "a runtime token tries"}, headers=auth(token))
        assert refused.status_code == 403, (method, path, refused.text)
        assert "runtime token may only" in refused.json()["detail"]


async def test_a_runtime_token_for_one_product_cannot_read_another(client, session, people):
    await take_live(client, session, people)
    other = await client.post(
        "/products",
        json={
            "slug": "policy-bot",
            "name": "Policy bot",
            "risk_tier": "limited",
            "model": {"provider": "offline", "name": "m"},
        },
        headers=auth(people["olivia"]),
    )
    assert other.status_code == 201, other.text
    token = await runtime_token(client, people, "policy-bot")
    refused = await client.get("/products/goal-coach/live", headers=auth(token))
    assert refused.status_code == 403 and "not for 'goal-coach'" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roles": ["runtime"]}, "products"),
        ({"roles": ["runtime", "reviewer"], "products": ["goal-coach"]}, "roles"),
        ({"roles": ["reviewer"], "products": ["goal-coach"]}, "products"),
        ({"roles": ["runtime"], "products": ["goal-coach", "nope-nope"]}, "products[1]"),
    ],
)
async def test_a_runtime_user_is_scoped_to_products_that_exist_and_holds_no_other_role(
    client, session, people, body, field
):
    refused = await client.post("/users", json={"name": "coach-app", **body}, headers=auth(people["ada"]))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


async def test_a_suspended_product_is_refused_until_a_second_reviewer_resumes_it(client, session, people):
    await take_live(client, session, people)
    token = await runtime_token(client, people, "goal-coach")
    reason = {"reason": "The coach suggested goals based on age; stopping while we investigate."}
    suspended = await client.post("/products/goal-coach/suspend", json=reason, headers=auth(people["rex"]))
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended"] and suspended.json()["suspended_by"] == "rex"

    refused = await client.get("/products/goal-coach/live", headers=auth(token))
    assert refused.status_code == 423, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "suspended" in refused.json()["detail"] and "based on age" in refused.json()["detail"]
    # A conditional fetch is refused as well: a client never keeps serving what was stopped.
    etag_fetch = await client.get("/products/goal-coach/live", headers={**auth(token), "If-None-Match": "*"})
    assert etag_fetch.status_code == 423

    again = await client.post("/products/goal-coach/suspend", json=reason, headers=auth(people["ravi"]))
    assert again.status_code == 409
    note = {"note": "The cases about age pass again; checked the transcripts."}
    for who, status in [("rex", 403), ("olivia", 403), ("paula", 403), ("ravi", 200)]:
        resumed = await client.post("/products/goal-coach/resume", json=note, headers=auth(people[who]))
        assert resumed.status_code == status, (who, resumed.text)
    assert (await client.get("/products/goal-coach/live", headers=auth(token))).status_code == 200

    audit = (await client.get("/audit", params={"product": "goal-coach"}, headers=auth(people["ada"]))).json()
    actions = [event["action"] for event in audit["items"]]
    assert "product.suspended" in actions and "product.resumed" in actions


async def test_a_new_release_going_live_lifts_a_suspension(client, session, people):
    await take_live(client, session, people)
    reason = {"reason": "Stopping: the policy changed and the coach is out of date."}
    assert (await client.post("/products/goal-coach/suspend", json=reason, headers=auth(people["olivia"]))).is_success
    head = (await client.get(f"/documents/{POLICY}", headers=auth(people["paula"]))).json()["content"]
    change = {**head, "content": head["content"] + "\n\n14. Goals may be revised.\n", "message": "fix"}
    assert (await client.put(f"/documents/{POLICY}", json=change, headers=auth(people["paula"]))).status_code == 201
    release = await take_live(client, session, people)
    view = (await client.get("/products/goal-coach/suspension", headers=auth(people["olivia"]))).json()
    assert not view["suspended"] and view["lift_reason"] == f"release {release['number']} went live"
    assert (await client.get("/products/goal-coach/live", headers=auth(people["olivia"]))).status_code == 200


async def test_who_may_press_the_stop_button(client, session, people):
    await take_live(client, session, people)
    _, ci_token = make_user(session, Role.ci, name="cid")
    _, other_token = make_user(session, Role.product_owner, name="peter")
    reason = {"reason": "I would like to stop this product now please."}
    for token in (ci_token, other_token):
        refused = await client.post("/products/goal-coach/suspend", json=reason, headers=auth(token))
        assert refused.status_code == 403, refused.text
    short = await client.post("/products/goal-coach/suspend", json={"reason": "stop"}, headers=auth(people["ada"]))
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "reason"
    assert (await client.post("/products/goal-coach/suspend", json=reason, headers=auth(people["ada"]))).is_success


async def test_a_suspension_and_its_lifting_are_sent_to_webhooks(client, session, people):
    from sqlalchemy import select

    from governance.notifications.models import OutboxEvent

    await take_live(client, session, people)
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["product.suspended", "product.resumed"]}
    assert (await client.post("/webhooks", json=hook, headers=auth(people["ada"]))).status_code == 201
    reason = {"reason": "Stopping: a works council complaint about the coach."}
    assert (await client.post("/products/goal-coach/suspend", json=reason, headers=auth(people["olivia"]))).is_success
    note = {"note": "The complaint was resolved with the works council."}
    assert (await client.post("/products/goal-coach/resume", json=note, headers=auth(people["ravi"]))).is_success
    sent = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(e.type, e.product_slug, e.payload["reason"]) for e in sent] == [
        ("product.suspended", "goal-coach", reason["reason"]),
        ("product.resumed", "goal-coach", note["note"]),
    ]
    assert sent[0].payload["release"] is None and sent[0].payload["actor"] == "olivia"


async def test_a_stop_and_a_restart_take_effect_at_once_though_the_pointer_is_remembered(client, session, people):
    await take_live(client, session, people)
    token = await runtime_token(client, people, "goal-coach")
    first = await client.get("/products/goal-coach/live", headers=auth(token))
    assert first.status_code == 200  # the product's pointer is now remembered by this server
    reason = {"reason": "Stopping right now, before the next answer goes out."}
    assert (await client.post("/products/goal-coach/suspend", json=reason, headers=auth(people["rex"]))).is_success
    assert (await client.get("/products/goal-coach/live", headers=auth(token))).status_code == 423
    note = {"note": "Checked: the answers were within policy."}
    assert (await client.post("/products/goal-coach/resume", json=note, headers=auth(people["ravi"]))).is_success
    again = await client.get(
        "/products/goal-coach/live", headers={**auth(token), "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


async def test_a_remembered_304_costs_no_query_and_a_revoked_token_loses_it_at_once(
    client, session, connection, people
):
    await take_live(client, session, people)
    await runtime_token(client, people, "goal-coach")
    issued = await client.post("/users/coach-app/tokens", headers=auth(people["ada"]))
    assert issued.status_code == 201, issued.text
    token, token_id = issued.json()["token"], issued.json()["id"]
    first = await client.get("/products/goal-coach/live", headers=auth(token))
    conditional = {**auth(token), "If-None-Match": first.headers["etag"]}
    with counting(connection) as seen:
        remembered = await client.get("/products/goal-coach/live", headers=conditional)
    assert remembered.status_code == 304 and seen == []
    assert (await client.delete(f"/tokens/{token_id}", headers=auth(people["ada"]))).status_code == 200
    refused = await client.get("/products/goal-coach/live", headers=conditional)
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"


async def test_only_a_token_a_full_check_granted_skips_it(client, session, connection, people):
    await take_live(client, session, people)
    coach = await runtime_token(client, people, "goal-coach")
    etag = (await client.get("/products/goal-coach/live", headers=auth(coach))).headers["etag"]
    # The pointer is remembered now, but a token that was never granted goes through the full check.
    other = {"name": "other-app", "roles": ["runtime"], "products": ["goal-coach"]}
    created = await client.post("/users", json=other, headers=auth(people["ada"]))
    assert created.status_code == 201, created.text
    conditional = {"If-None-Match": etag, **auth(created.json()["token"])}
    with counting(connection) as seen:
        checked = await client.get("/products/goal-coach/live", headers=conditional)
    assert checked.status_code == 304 and len(seen) >= 1
    with counting(connection) as seen:
        assert (await client.get("/products/goal-coach/live", headers=conditional)).status_code == 304
    assert seen == []
    for headers in ({"If-None-Match": etag, **auth("stw_nope")}, {"If-None-Match": etag}):
        assert (await client.get("/products/goal-coach/live", headers=headers)).status_code == 401
