"""GET /releases/{id}/technical-file in three formats, by parameter or Accept header, and /compare."""

from __future__ import annotations

import hashlib

import pytest

from governance.kernel.canonical import canonical_json
from governance.technical_file import repository
from tests.factories import auth, make_user
from tests.technical_files import live_demo, second_release

PROBLEM = "application/problem+json"


@pytest.fixture
def demo(session):
    return live_demo(session)


async def test_json_is_the_frozen_file_whose_hash_the_headers_and_the_audit_trail_carry(client, session, demo):
    response = await client.get(f"/releases/{demo.first.id}/technical-file", headers=auth(demo.tokens["rita"]))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    row = repository.frozen_file(session, demo.first.id)
    assert row is not None
    assert body["status"] == "frozen" and body["frozen"]["sha256"] == row.sha256
    assert response.headers["x-technical-file-status"] == "frozen"
    assert response.headers["x-technical-file-sha256"] == row.sha256
    assert hashlib.sha256(canonical_json(body["file"]).encode("utf-8")).hexdigest() == row.sha256
    assert body["retention"]["years"] == 10 and body["since_go_live"]["kpis"]["volume"] == 12
    assert set(body["file"]) >= {"general", "classification", "components", "changes", "tests", "signoffs"}
    assert set(body["file"]) >= {"oversight", "risk", "production", "obligations"}


@pytest.mark.parametrize(
    ("query", "accept", "media", "marker"),
    [
        ("?format=md", None, "text/markdown; charset=utf-8", "# Technical file: Goal-setting coach, release 1"),
        ("?format=html", None, "text/html; charset=utf-8", "<!doctype html>"),
        ("?format=json", "text/html", "application/json", '"status":"frozen"'),
        ("", "text/markdown", "text/markdown; charset=utf-8", "## 6. Sign-off and approvals"),
        ("", "text/html;q=0.5, text/markdown;q=0.9", "text/markdown; charset=utf-8", "## 1. General"),
        ("", "application/xml, text/html", "text/html; charset=utf-8", '<article class="technical-file">'),
        ("", "*/*", "application/json", '"frozen":{'),
    ],
)
async def test_the_format_comes_from_the_parameter_else_the_accept_header(client, demo, query, accept, media, marker):
    headers = auth(demo.tokens["olivia"]) | ({"Accept": accept} if accept else {})
    response = await client.get(f"/releases/{demo.first.id}/technical-file{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media and marker in response.text


async def test_an_unknown_format_is_422_and_an_unacceptable_accept_is_406_both_problems(client, demo):
    headers = auth(demo.tokens["olivia"])
    bad = await client.get(f"/releases/{demo.first.id}/technical-file?format=pdf", headers=headers)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"][0]["field"] == "format"
    refused = await client.get(
        f"/releases/{demo.first.id}/technical-file", headers=headers | {"Accept": "application/pdf, image/*"}
    )
    assert refused.status_code == 406 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"][0]["field"] == "Accept" and "text/markdown" in refused.json()["detail"]
    zero = await client.get(f"/releases/{demo.first.id}/technical-file", headers=headers | {"Accept": "text/html;q=0"})
    assert zero.status_code == 406


async def test_who_may_read_it_is_who_may_read_the_release(client, session, demo):
    path = f"/releases/{demo.first.id}/technical-file"
    assert (await client.get(path)).status_code == 401
    runtime = await client.get(path, headers=auth(demo.tokens["coach-app"]))
    assert runtime.status_code == 403 and runtime.headers["content-type"] == PROBLEM
    missing = await client.get("/releases/999999/technical-file", headers=auth(demo.tokens["olivia"]))
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    _, stranger = make_user(session, "product_owner", name="stranger")
    # Any signed-in user may read any release (GET /releases/{id}); the file follows the same rule.
    assert (await client.get(path, headers=auth(stranger))).status_code == 200
    assert (await client.get(f"{path}/compare?with=1", headers=auth(demo.tokens["coach-app"]))).status_code == 403


async def test_compare_gives_a_unified_diff_per_section(client, session, demo):
    release = second_release(session, live=True)
    headers = auth(demo.tokens["rita"])
    response = await client.get(f"/releases/{release.id}/technical-file/compare?with=1", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["release"], body["compared_with"]) == (2, 1)
    by_section = {s["section"]: s for s in body["sections"]}
    assert by_section["components"]["changed"] and "+| prompt | system | 2 |" in by_section["components"]["diff"]
    assert not by_section["classification"]["changed"] and by_section["classification"]["diff"] == ""
    missing = await client.get(f"/releases/{release.id}/technical-file/compare?with=9", headers=headers)
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "with"
    invalid = await client.get(f"/releases/{release.id}/technical-file/compare?with=zero", headers=headers)
    assert invalid.status_code == 422


async def test_a_draft_says_it_is_one(client, session, demo):
    release = second_release(session, live=False)
    response = await client.get(f"/releases/{release.id}/technical-file", headers=auth(demo.tokens["olivia"]))
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert response.headers["x-technical-file-status"] == "draft" and "x-technical-file-sha256" not in response.headers
    md = await client.get(f"/releases/{release.id}/technical-file?format=md", headers=auth(demo.tokens["olivia"]))
    assert "**Draft**" in md.text and "Appendix: since go-live" not in md.text
