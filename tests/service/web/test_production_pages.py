"""The product page's "In production" section and the owner's after-go-live tasks, without a browser."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import httpx
import pytest

from governance.accounts.roles import Role
from governance.accounts.users import issue_token
from governance.feedback.models import HumanAction
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from governance.incidents.recording import record_incident
from governance.incidents.schemas import IncidentCreate
from governance.kernel.db import utcnow
from tests.factories import make_user
from tests.live_products import live_product
from tests.service.web.test_pages import csrf_of, sign_in


@pytest.fixture(autouse=True)
def _sqlite_is_enough(database_url):
    if database_url.startswith("postgresql"):
        pytest.skip("web routes are tested on SQLite only")


@pytest.fixture
async def web(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as http:
        yield http


@pytest.fixture
def production(session):
    owner, slug, release = live_product(session)
    overridden = [FeedbackItem(release=release.number, thumbs="down", human_action=HumanAction.overrode)] * 4
    accepted = [FeedbackItem(release=release.number, thumbs="up", human_action=HumanAction.accepted)] * 6
    comment = [
        FeedbackItem(
            release=release.number,
            stars=2,
            comment="Too vague <b>really</b>",
            input="Help me set a goal about mentoring",
            output="Mentor people more.",
        )
    ]
    record_feedback(session, owner, slug, overridden + accepted + comment)
    incident = record_incident(
        session,
        make_user(session, Role.reviewer)[0],
        slug,
        IncidentCreate(
            what_happened="Drafted a goal that named an employee's illness.",
            affected="One employee",
            aware_at=utcnow() - timedelta(days=16),
        ),
    )
    session.flush()
    return {"slug": slug, "release": release, "token": issue_token(session, owner), "incident": incident}


async def test_the_product_page_shows_kpis_with_charts_that_carry_no_script(web, production):
    await sign_in(web, production["token"])
    page = await web.get(f"/products/{production['slug']}")
    assert page.status_code == 200
    html = page.text
    assert 'id="production"' in html and "Override rate (human oversight)" in html
    assert re.search(r'<tr data-kpi="override_rate">\s*<th scope="row">[^<]+</th>\s*<td>40%</td>', html)
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 4
    for encoded in images:
        svg = base64.b64decode(encoded).decode()
        assert svg.startswith("<svg") and "<script" not in svg and "href=" not in svg
    # Comments are the users' words: escaped like every other text.
    assert "Too vague &lt;b&gt;really&lt;/b&gt;" in html
    assert f"Incident {production['incident'].id} on release {production['release'].number}" in html
    assert "1 incident</a>" in html


async def test_the_owners_home_lists_the_alert_and_the_overdue_incident(web, production):
    await sign_in(web, production["token"])
    home = (await web.get("/")).text
    tasks = home[home.index('id="production-tasks"') :]
    tasks = tasks[: tasks.index("</ul>")]
    assert "KPI limit crossed" in tasks and "override rate 40%" in tasks
    assert "report the incident" in tasks and "overdue" in tasks


async def test_the_owner_acts_from_the_product_page(web, session, production):
    slug = production["slug"]
    await sign_in(web, production["token"])
    page = (await web.get(f"/products/{slug}")).text
    [feedback_id] = re.findall(rf'action="/products/{slug}/feedback/(\d+)/promote"', page)
    [alert_id] = re.findall(rf'action="/products/{slug}/alerts/(\d+)/acknowledge"', page)
    csrf = await csrf_of(web, f"/products/{slug}")
    promoted = await web.post(
        f"/products/{slug}/feedback/{feedback_id}/promote", data={"csrf_token": csrf, "suite": "quality"}
    )
    assert promoted.status_code == 303
    page = (await web.get(promoted.headers["location"])).text
    assert f"Added feedback {feedback_id} to suite quality (version 2)" in page
    assert f"release {production['release'].number + 1}</a>" in page
    await web.post(f"/products/{slug}/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf, "note": "On it."})
    await web.post(
        f"/products/{slug}/incidents/{production['incident'].id}/reported",
        data={"csrf_token": csrf, "authority_reference": "REF-9"},
    )
    page = (await web.get(f"/products/{slug}")).text
    assert "acknowledged by" in page and "On it." in page and "as REF-9" in page
    home = (await web.get("/")).text
    assert 'id="production-tasks"' not in home
    refused = await web.post(
        f"/products/{slug}/feedback/{feedback_id}/promote", data={"csrf_token": csrf, "suite": "NOPE"}
    )
    assert refused.status_code == 303
    assert "choose one of the product" in (await web.get(refused.headers["location"])).text


async def test_the_product_page_shows_candidate_models_beside_the_live_one(web, session, production):
    from tests.inline_worker import run_queued_chunks

    slug, token = production["slug"], production["token"]
    await sign_in(web, token)
    assert "Candidate models" not in (await web.get(f"/products/{slug}")).text  # nothing tried yet
    started = await web.post(
        f"/api/v1/products/{slug}/candidate-runs",
        json={"model": {"provider": "offline", "name": "next-gen"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert started.status_code == 202, started.text
    run_queued_chunks(session)
    html = (await web.get(f"/products/{slug}")).text
    table = html[html.index('id="candidate-models"') :]
    table = table[: table.index("</table>")]
    assert "<th>offline:m (live)</th><th>offline:next-gen</th>" in table
    assert re.search(r"<td>quality</td>\s*<td>passed \(100%\)</td>\s*<td>passed \(100%\)</td>", table)
