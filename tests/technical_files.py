"""The demo's goal coach, live, inside the test's transaction: what the technical file tests read.

The same path ``steward demo`` takes (``seed_demo``, the runs through the workers' code, the sign-off, two
approvals and go-live as real decisions), so the file is assembled from the demo's own data.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.accounts.users import get_user
from governance.catalog import components
from governance.catalog.products import get_product
from governance.catalog.schemas import PromptPublish
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.models import Release, ReleaseState
from governance.releases.reading import latest_release
from governance.review import decisions
from service.seed import seed_demo, take_first_release_live
from service.settings import PROJECT_ROOT
from tests.inline_worker import run_queued_chunks

GOAL_COACH = PROJECT_ROOT / "prompts" / "goal_coach" / "steward.yaml"
CHANGE_MESSAGE = "Shorter opening: employees asked for fewer words before the first question."


@dataclass(frozen=True)
class Demo:
    tokens: dict[str, str]
    first: Release


def live_demo(session: UnitOfWork) -> Demo:
    """The demo seeded and its first release live (its file frozen on the way)."""
    result = seed_demo(session, GOAL_COACH)
    run_queued_chunks(session)
    problem = take_first_release_live(session)
    assert problem is None, problem
    release = latest_release(session, get_product(session, "goal-coach"))
    assert release is not None and release.state == ReleaseState.live.value
    return Demo(tokens=result.tokens, first=release)


def second_release(session: UnitOfWork, *, live: bool) -> Release:
    """Olivia changes the coach's prompt; release 2 runs and passes, and (``live``) goes through the four eyes."""
    olivia = get_user(session, "olivia")
    template = (PROJECT_ROOT / "prompts" / "goal_coach" / "system.md.j2").read_text(encoding="utf-8")
    components.publish_prompt(
        session, olivia, "goal-coach", "system", PromptPublish(template=template + "\n", message=CHANGE_MESSAGE)
    )
    run_queued_chunks(session)
    release = latest_release(session, get_product(session, "goal-coach"))
    assert release is not None and release.number == 2 and release.state == ReleaseState.passed.value
    if live:
        decisions.sign_off(session, olivia, release.id, decisions.SignOffRequest(note="Prompt wording only."))
        for reviewer in ("rita", "ravi"):
            decisions.approve(
                session, get_user(session, reviewer), release.id, decisions.ApproveRequest(note="Checked the diff.")
            )
        decisions.go_live(session, olivia, release.id)
    return release
