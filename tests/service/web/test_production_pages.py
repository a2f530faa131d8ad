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
from tests.service.web.test_pages import sign_in


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
    comment = [FeedbackItem(release=release.number, stars=2, comment="Too vague <b>really</b>")]
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
