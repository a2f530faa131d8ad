"""Documents and processes: shared components with their own owners, and product links."""

from __future__ import annotations

from sqlalchemy import select

from governance.accounts.roles import Role
from governance.catalog.models import ProcessDocument
from tests.factories import auth, make_product, make_user

POLICY = {
    "title": "Performance management policy",
    "content": "Goals are set by 31 January.",
    "content_type": "text/markdown",
    "message": "first",
}


def process_body(documents: list[str]) -> dict:
    return {
        "name": "Goal setting",
        "description": "Yearly goals.",
        "steps": [{"name": "Draft", "actor": "employee"}, {"name": "Manager review", "actor": "manager"}],
        "documents": documents,
    }


async def test_document_owner_publishes_and_others_are_refused(client, session):
    _paula, paula_token = make_user(session, Role.product_owner, name="paula")
    created = await client.put("/documents/pm-policy", json=POLICY, headers=auth(paula_token))
    assert created.status_code == 201 and created.json()["version"]["number"] == 1
    head = await client.get("/documents/pm-policy", headers=auth(paula_token))
    assert head.json()["content"]["title"] == POLICY["title"]
    listed = await client.get("/documents", headers=auth(paula_token))
    assert [(d["name"], d["owner"]) for d in listed.json()["items"]] == [("pm-policy", "paula")]

    changed = {**POLICY, "content": "Goals are set by 15 February."}
    for role in (Role.product_owner, Role.reviewer, Role.ci):
        _, token = make_user(session, role)
        refused = await client.put("/documents/pm-policy", json=changed, headers=auth(token))
        assert refused.status_code == 403 and "paula" in refused.json()["detail"]
    _, admin = make_user(session, Role.admin)
    assert (await client.put("/documents/pm-policy", json=changed, headers=auth(admin))).status_code == 201
    diff = await client.get("/documents/pm-policy/diff?from=1&to=2", headers=auth(admin))
    assert "-Goals are set by 31 January." in diff.json()["diff"]
    assert "+Goals are set by 15 February." in diff.json()["diff"]


async def test_reviewers_and_ci_cannot_create_documents(client, session):
    for role in (Role.reviewer, Role.ci):
        _, token = make_user(session, role)
        assert (await client.put("/documents/new-doc", json=POLICY, headers=auth(token))).status_code == 403


async def test_owner_can_hand_a_document_over(client, session):
    _, paula = make_user(session, Role.product_owner)
    heir, heir_token = make_user(session, Role.product_owner)
    await client.put("/documents/guide", json=POLICY, headers=auth(paula))
    handed = await client.put("/documents/guide", json={**POLICY, "owner": heir.name}, headers=auth(paula))
    assert handed.status_code == 200 and handed.json()["created"] is False
    assert (
        await client.put("/documents/guide", json={**POLICY, "content": "new"}, headers=auth(paula))
    ).status_code == 403
    assert (
        await client.put("/documents/guide", json={**POLICY, "content": "new"}, headers=auth(heir_token))
    ).status_code == 201


async def test_process_must_reference_existing_documents(client, session):
    _, token = make_user(session, Role.product_owner)
    await client.put("/documents/pm-policy", json=POLICY, headers=auth(token))
    refused = await client.put(
        "/processes/goal-setting", json=process_body(["pm-policy", "ghost-doc"]), headers=auth(token)
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "documents[1]", "reason": "no document with slug 'ghost-doc'"}]
    created = await client.put("/processes/goal-setting", json=process_body(["pm-policy"]), headers=auth(token))
    assert created.status_code == 201
    assert created.json()["version"]["content"]["steps"][1] == {
        "name": "Manager review",
        "description": "",
        "actor": "manager",
    }
    reordered = await client.put("/processes/goal-setting", json=process_body(["pm-policy"]), headers=auth(token))
    assert reordered.status_code == 200


async def test_process_document_edges_follow_the_head(client, session):
    _, token = make_user(session, Role.product_owner)
    await client.put("/documents/doc-a", json=POLICY, headers=auth(token))
    await client.put("/documents/doc-b", json=POLICY, headers=auth(token))
    await client.put("/processes/flow", json=process_body(["doc-a"]), headers=auth(token))
    await client.put("/processes/flow", json=process_body(["doc-b"]), headers=auth(token))
    edges = session.execute(select(ProcessDocument)).scalars().all()
    assert len(edges) == 1


async def test_links_replace_the_set_and_show_on_the_product(client, session):
    owner, token = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    await client.put("/documents/pm-policy", json=POLICY, headers=auth(token))
    await client.put("/documents/smart-guide", json={**POLICY, "title": "SMART goals guide"}, headers=auth(token))
    await client.put("/processes/goal-setting", json=process_body(["pm-policy"]), headers=auth(token))
    linked = await client.put(
        f"/products/{slug}/links",
        json={"documents": ["smart-guide"], "processes": ["goal-setting"]},
        headers=auth(token),
    )
    assert linked.status_code == 200
    assert linked.json() == {"documents": ["smart-guide"], "processes": ["goal-setting"]}
    view = (await client.get(f"/products/{slug}", headers=auth(token))).json()
    assert [(d["name"], d["title"], d["head"]["number"]) for d in view["documents"]] == [
        ("smart-guide", "SMART goals guide", 1)
    ]
    assert [(p["name"], p["documents"]) for p in view["processes"]] == [("goal-setting", ["pm-policy"])]
    replaced = await client.put(f"/products/{slug}/links", json={"documents": [], "processes": []}, headers=auth(token))
    assert replaced.json() == {"documents": [], "processes": []}


async def test_links_refuse_unknown_slugs_and_other_users(client, session):
    owner, token = make_user(session, Role.product_owner)
    slug = make_product(session, owner)
    unknown = await client.put(
        f"/products/{slug}/links",
        json={"documents": ["nope-doc"], "processes": ["nope"]},
        headers=auth(token),
    )
    assert unknown.status_code == 422
    assert {e["field"] for e in unknown.json()["errors"]} == {"documents[0]", "processes[0]"}
    for role in (Role.reviewer, Role.ci, Role.product_owner):
        _, other = make_user(session, role)
        refused = await client.put(f"/products/{slug}/links", json={"documents": []}, headers=auth(other))
        assert refused.status_code == 403
    _, admin = make_user(session, Role.admin)
    assert (await client.put(f"/products/{slug}/links", json={}, headers=auth(admin))).status_code == 200
