"""A product in production for the after-go-live tests: a prompt, a passing suite, a release taken live."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import PromptPublish, SuitePublish
from governance.releases.models import Release, ReleaseState
from governance.releases.reading import latest_release
from governance.releases.workflow import transition
from tests.factories import make_product, make_user, suite_spec
from tests.inline_worker import run_queued_chunks

PROMPT = "You coach employees on goals. The employee says: {{ employee_message }}"


def take_live(session: Session, slug: str) -> Release:
    """Run the newest release's suites, then move it through sign-off and approval to live."""
    run_queued_chunks(session)
    release = latest_release(session, get_product(session, slug))
    assert release is not None and release.state == ReleaseState.passed.value, (
        release and release.state,
        release and release.error,
    )
    for state in (ReleaseState.signed_off, ReleaseState.approved, ReleaseState.live):
        if state == ReleaseState.live:
            previous = [r for r in _live(session, release.product_id) if r.id != release.id]
            for old in previous:
                transition(
                    session, old, ReleaseState.retired, actor="system", action="release.retired", product_slug=slug
                )
        transition(session, release, state, actor="system", action=f"release.{state.value}", product_slug=slug)
    return release


def _live(session: Session, product_id: int) -> list[Release]:
    from sqlalchemy import select

    query = select(Release).where(Release.product_id == product_id, Release.state == ReleaseState.live.value)
    return list(session.scalars(query))


def live_product(session: Session, *, slug: str | None = None, cases: int = 2) -> tuple[User, str, Release]:
    """An owner, the slug of their high-risk product, and its live release (release 1 unless more came before)."""
    owner = make_user(session, Role.product_owner)[0]
    slug = make_product(session, owner, slug)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template=PROMPT))
    components.publish_suite(session, owner, slug, "quality", SuitePublish(spec=suite_spec("quality", cases=cases)))
    return owner, slug, take_live(session, slug)


def new_release_live(session: Session, owner: User, slug: str, template: str) -> Release:
    """A change of the prompt, taken live: the previous live release retires."""
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template=template))
    return take_live(session, slug)
