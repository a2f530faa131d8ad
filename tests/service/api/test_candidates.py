"""POST/GET /products/{slug}/candidate-runs: the live release on another model, in one call."""

from __future__ import annotations

from governance.accounts.users import issue_token
from tests.factories import auth
from tests.inline_worker import run_queued_chunks
from tests.live_products import live_product


async def test_one_call_runs_the_live_manifest_on_another_model(client, session):
    owner, slug, release = live_product(session)
    token = issue_token(session, owner)
    session.flush()
    body = {"model": {"provider": "offline", "name": "next-gen"}}
    started = await client.post(f"/products/{slug}/candidate-runs", json=body, headers=auth(token))
    assert started.status_code == 202, started.text
    assert started.json()["model"] == "offline:next-gen" and started.json()["release"] == release.number
    run_queued_chunks(session)
    compared = (await client.get(f"/products/{slug}/candidate-runs", headers=auth(token))).json()
    assert compared["providers"] == ["offline:next-gen"] and compared["live_provider"] == "offline:m"
    [suite] = compared["suites"]
    assert suite["live"]["state"] == "passed" and suite["candidates"][0]["state"] == "passed"


async def test_a_bad_candidate_is_a_problem_not_a_500(client, session):
    owner, slug, _release = live_product(session)
    token = issue_token(session, owner)
    session.flush()
    unknown = await client.post(
        f"/products/{slug}/candidate-runs",
        json={"model": {"provider": "nonsense", "name": "x"}},
        headers=auth(token),
    )
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")
    same = await client.post(
        f"/products/{slug}/candidate-runs",
        json={"model": {"provider": "offline", "name": "m"}},
        headers=auth(token),
    )
    assert same.status_code == 409
