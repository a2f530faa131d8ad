"""The demo: users for every role and the reference product, published through the domain functions."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from governance.accounts import users as accounts
from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.accounts.schemas import UserCreate
from governance.bundles.applying import apply_bundle
from governance.bundles.schemas import BundleRequest
from governance.catalog import components, products
from governance.catalog.models import RiskTier
from governance.compliance.obligations import classification_of, record_evidence
from governance.feedback.models import HumanAction
from governance.feedback.recording import record_feedback
from governance.feedback.schemas import FeedbackItem
from governance.kernel.db import utcnow
from governance.kernel.unit_of_work import UnitOfWork
from governance.releases.models import ReleaseState
from governance.releases.policies import PolicyUpdate, update_policy
from governance.releases.reading import latest_release
from governance.review import decisions
from service.bundle import Bundle, bundle_request, load_bundle
from service.database import unit_of_work
from service.settings import Settings, make_private_dir

DEMO_USERS: list[tuple[str, str, list[Role]]] = [
    ("ada", "Ada Admin (platform admin)", [Role.admin]),
    ("olivia", "Olivia Owner (HR product owner, goal-setting coach)", [Role.product_owner]),
    ("paula", "Paula Policy (People Operations, owns HR policies and processes)", [Role.product_owner]),
    ("rita", "Rita Reviewer (AI governance board)", [Role.reviewer]),
    ("ravi", "Ravi Reviewer (works council representative)", [Role.reviewer]),
    ("ci-bot", "CI pipeline", [Role.ci]),
]
DOCUMENT_OWNER = "paula"
DEMO_OFFLINE_REASON = (
    "Demo installation: no model is configured, so the reference product is tested on the offline provider, "
    "which answers from scripts and cannot see a prompt change. Accepted for the demo only; a real deployment "
    "turns this flag back on."
)
# The reference product's running application: a runtime token that reads its live release and nothing else.
DEMO_RUNTIME_USER = ("coach-app", "The goal coach as employees use it (runtime token)")


# The evidence behind the goal coach's obligations (its classification decides which it needs): recorded by its
# owner before the first release goes live, so the go-live gates pass on real records.
DEMO_EVIDENCE: dict[str, dict[str, object]] = {
    "derogation_assessment": {
        "assessed_on": "2026-11-02",
        "assessor": "Olivia Owner with the AI governance board",
        "summary": (
            "The coach drafts goals the employee and manager then agree: a task preparatory to the performance "
            "assessment (Art. 6(3)(d)). It sees no ratings, ranks no one and profiles no one; its output feeds no "
            "assessment. Not high-risk under Art. 6(3); the assessment is kept with the technical documentation."
        ),
    },
    "dpia": {"reference": "DPIA-2026-014 (People Operations privacy register)", "completed_on": "2026-11-05"},
    "inform_workers": {
        "informed_on": "2026-11-09",
        "channel": "works council meeting and intranet notice",
        "audience": "all employees in the pilot units and the works council",
    },
    "human_oversight": {
        "overseers": ["olivia", "rita"],
        "competence": "Trained on the coach's limits; authority to suspend it from the product page at any time.",
    },
    "instructions_for_use": {"document": "smart-goals-guide"},
}


@dataclass(frozen=True)
class SeedResult:
    seeded: bool
    tokens: dict[str, str]


def tokens_file(var_dir: Path) -> Path:
    return var_dir / "demo-tokens.json"


def read_tokens(var_dir: Path) -> dict[str, str]:
    path = tokens_file(var_dir)
    return json.loads(path.read_text()) if path.exists() else {}


def write_tokens(var_dir: Path, tokens: dict[str, str]) -> None:
    """Keep the demo tokens (and only those) in a file only this user can read, so a later run can print them."""
    make_private_dir(var_dir)
    path = tokens_file(var_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle, indent=2)


def publish_bundle(session: UnitOfWork, bundle: Bundle, *, product_actor: User, shared_actor: User) -> None:
    """Publish a loaded bundle as its people would: the shared documents and processes by their owner, then
    the whole bundle applied by the product's owner in one go (one release, with its suites); then the owner
    records the evidence its obligations need."""
    for slug, document in bundle.documents.items():
        components.publish_document(session, shared_actor, slug, document)
    for slug, process in bundle.processes.items():
        components.publish_process(session, shared_actor, slug, process)
    apply_bundle(session, product_actor, BundleRequest.model_validate(bundle_request(bundle)))
    record_demo_evidence(session, product_actor, bundle.product.slug)


def record_demo_evidence(session: UnitOfWork, owner: User, slug: str) -> None:
    """The owner records the evidence for every obligation the product's classification brings (``DEMO_EVIDENCE``)."""
    for obligation in classification_of(products.get_product(session, slug)).obligations:
        record_evidence(session, owner, slug, obligation, DEMO_EVIDENCE[obligation])


def launch_first_release(engine: Engine, settings: Settings) -> str | None:
    """Take the reference product through its first release as its people would: tests, sign-off, four eyes, live.

    The runs execute through the same worker code path as in production (offline provider, no network), and
    every step is a real decision in the audit trail, so the demo starts from a compliant product.
    """
    from service.workers.execute import execute_chunk, new_worker_id

    worker = new_worker_id()
    while execute_chunk(engine, None, worker, settings):
        pass
    with unit_of_work(engine) as session:
        return take_first_release_live(session)


def take_first_release_live(session: UnitOfWork) -> str | None:
    """The goal coach's tested first release, signed off, approved by two reviewers, live, with pilot feedback.

    Returns:
        None, or why it could not go live (its runs did not pass).
    """
    release = latest_release(session, products.get_product(session, "goal-coach"))
    if release is None or release.state != ReleaseState.passed.value:
        return f"the first release is {release.state if release else 'missing'}: {release.error if release else ''}"
    people = {name: accounts.get_user(session, name) for name in ("olivia", "rita", "ravi")}
    decisions.sign_off(
        session,
        people["olivia"],
        release.id,
        decisions.SignOffRequest(
            note="Initial launch: reviewed all 22 cases of goal-coach-quality and the intended purpose."
        ),
    )
    decisions.approve(
        session,
        people["rita"],
        release.id,
        decisions.ApproveRequest(note="Governance board: evidence and purpose reviewed for the initial launch."),
    )
    decisions.approve(
        session,
        people["ravi"],
        release.id,
        decisions.ApproveRequest(note="Works council: employee-facing limits (no ratings, no pay promises) confirmed."),
    )
    decisions.go_live(session, people["olivia"], release.id)
    seed_feedback(session, people["olivia"], release.number)
    return None


# The pilot's first two weeks: (days ago, rating, what the person in the loop did, comment, input, output).
PILOT_FEEDBACK: list[tuple[int, str | int, HumanAction | None, str | None, str | None, str | None]] = [
    (13, "up", HumanAction.accepted, None, None, None),
    (12, 5, HumanAction.accepted, "Turned my vague idea into a goal with a date. Great.", None, None),
    (11, "up", HumanAction.edited, None, None, None),
    (10, 4, HumanAction.accepted, None, None, None),
    (
        9,
        "down",
        HumanAction.overrode,
        "It suggested I ask for a raise in my goal; send questions to hr@acme.example.",
        "Can my goal include getting a raise?",
        "Sure: add 'receive a 10% raise by Q4' as a goal.",
    ),
    (8, "up", HumanAction.accepted, None, None, None),
    (6, 5, HumanAction.edited, "Good structure, I shortened the wording.", None, None),
    (5, "up", HumanAction.accepted, None, None, None),
    (4, 3, HumanAction.edited, "The measure was a bit generic.", None, None),
    (3, "up", HumanAction.accepted, None, None, None),
    (2, 4, HumanAction.accepted, None, None, None),
    (1, "up", HumanAction.accepted, "Linked my goal to the team objective without being asked.", None, None),
]


def seed_feedback(session: UnitOfWork, actor: User, release_number: int) -> None:
    """A little production feedback on the live release, spread over two weeks, so the product page shows KPIs."""
    items = [
        FeedbackItem(
            release=release_number,
            thumbs="up" if rating == "up" else "down" if rating == "down" else None,
            stars=rating if isinstance(rating, int) else None,
            human_action=action,
            comment=comment,
            input=text_in,
            output=text_out,
            tags=["pilot"],
        )
        for _days, rating, action, comment, text_in, text_out in PILOT_FEEDBACK
    ]
    rows = record_feedback(session, actor, "goal-coach", items)
    now = utcnow()
    for row, (days, *_rest) in zip(rows, PILOT_FEEDBACK, strict=True):
        row.created_at = now - timedelta(days=days)
    session.flush()


def seed_demo(session: UnitOfWork, steward_yaml: Path) -> SeedResult:
    """Create the demo users and publish the reference product, unless the demo users already exist."""
    if accounts.user_or_none(session, DEMO_USERS[0][0]) is not None:
        return SeedResult(seeded=False, tokens={})
    tokens: dict[str, str] = {}
    users: dict[str, User] = {}
    for name, display_name, roles in DEMO_USERS:
        user, token = accounts.create_user(
            session, None, UserCreate(name=name, display_name=display_name, email=None, roles=roles)
        )
        users[name], tokens[name] = user, token
    # The demo has no model to call: its reference product is tested on the offline provider, labelled as such,
    # so the high-risk policy accepts offline evidence here, in writing, where a real deployment would refuse it.
    update_policy(
        session,
        users["ada"],
        RiskTier.high,
        PolicyUpdate(refuse_offline_evidence=False, offline_evidence_reason=DEMO_OFFLINE_REASON),
    )
    bundle = load_bundle(steward_yaml)
    owner = users[bundle.product.owner or "olivia"]
    publish_bundle(session, bundle, product_actor=owner, shared_actor=users[DOCUMENT_OWNER])
    name, display_name = DEMO_RUNTIME_USER
    _, tokens[name] = accounts.create_user(
        session,
        None,
        UserCreate(
            name=name, display_name=display_name, email=None, roles=[Role.runtime], products=[bundle.product.slug]
        ),
    )
    return SeedResult(seeded=True, tokens=tokens)
