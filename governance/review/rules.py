"""The rules of a release in one table: each action on a release, and the guards that must hold for it.

A guard is a small pure function of a release's facts (``governance.review.facts.ReleaseFacts``) and the acting
user. It lets the action pass (``None``) or refuses it with a :class:`Refusal` that names the guard and carries
the domain error the refusal becomes: ``Forbidden`` (403) for who may act, ``Conflict`` (409) for the state the
release is in, ``Invalid`` (422) for a payload that does not fit the release. The decision functions call
:func:`require`; the web app calls :func:`refusals` to offer exactly the buttons the decisions accept, and to say
why not the others, in the same words. A rule written here is written nowhere else.

Moving a release cut by hand is not in the table: ``governance.releases`` cuts it, below this package.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from governance.accounts.models import User
from governance.accounts.permissions import require_role
from governance.accounts.roles import Role
from governance.kernel.errors import Conflict, DomainError, Forbidden, Invalid
from governance.releases.models import ReleaseState
from governance.releases.workflow import ALLOWED, IllegalTransition, transition_refusal
from governance.review.facts import ReleaseFacts

S = ReleaseState


class Action(enum.StrEnum):
    """What a user may do to a release."""

    sign_off = "sign_off"
    waive = "waive"
    approve = "approve"
    reject = "reject"
    request_changes = "request_changes"
    go_live = "go_live"
    rerun = "rerun"


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: the guard that refused it, its reason in words, and the error it raises as."""

    rule: str
    reason: str
    error: type[DomainError]
    field: str | None = None

    @property
    def status(self) -> int:
        return self.error.status

    def as_error(self) -> DomainError:
        return self.error(self.reason, field=self.field)


Check = Callable[[ReleaseFacts, User], str | None]


@dataclass(frozen=True)
class Guard:
    """One rule of the table: a check that returns the reason it refuses, and how that refusal is raised."""

    rule: str
    check: Check
    error: type[DomainError]
    field: str | None = None

    def __call__(self, facts: ReleaseFacts, user: User) -> Refusal | None:
        reason = self.check(facts, user)
        return None if reason is None else Refusal(self.rule, reason, self.error, self.field)


def guard(error: type[DomainError], *, field: str | None = None) -> Callable[[Check], Guard]:
    """Make a check a guard raised as ``error`` (on ``field``), named after the check's function."""

    def make(check: Check) -> Guard:
        return Guard(check.__name__, check, error, field)

    return make


# --- who may act (403) ----------------------------------------------------------------------------------------


@guard(Forbidden)
def owner_signs_off(facts: ReleaseFacts, user: User) -> str | None:
    """Only the product's owner signs off its releases, with or without a waiver."""
    if user.id == facts.owner_id:
        return None
    return f"only the owner of '{facts.product_slug}' ({facts.owner_name}) signs off its releases"


def reviewer(doing: str) -> Guard:
    """Decisions are for reviewers; the words are the accounts package's, naming what was being done."""

    def reviewer_role(facts: ReleaseFacts, user: User) -> str | None:
        try:
            require_role(user, Role.reviewer, action=doing)
        except Forbidden as refused:
            return refused.detail
        return None

    return Guard("reviewer_role", reviewer_role, Forbidden)


@guard(Forbidden)
def not_the_owner(facts: ReleaseFacts, user: User) -> str | None:
    """Four eyes: an owner never reviews their own product, whatever roles they also hold."""
    if user.id != facts.owner_id:
        return None
    return f"{user.name} owns '{facts.product_slug}': an owner never reviews their own product"


@guard(Forbidden)
def not_an_author(facts: ReleaseFacts, user: User) -> str | None:
    """Four eyes: nobody decides on a change they wrote part of."""
    authored = facts.authors.get(user.name)
    if not authored:
        return None
    return (
        f"{user.name} authored what this release changes ({', '.join(authored)}): "
        "the approver must not be an author of the change"
    )


@guard(Forbidden)
def not_a_signer(facts: ReleaseFacts, user: User) -> str | None:
    """Four eyes: whoever signed off a release, in any cycle, never decides on it."""
    if user.name not in facts.signers:
        return None
    return f"{user.name} signed off release {facts.release_number}: whoever signs off a release never decides on it"


@guard(Forbidden)
def not_a_past_owner(facts: ReleaseFacts, user: User) -> str | None:
    """Four eyes: handing the product over does not make its former owner independent of the release."""
    if user.name not in facts.owners:
        return None
    return (
        f"{user.name} owned '{facts.product_slug}' during release {facts.release_number}'s life: "
        "nobody who owned the product while the release existed decides on it"
    )


@guard(Forbidden)
def owner_or_admin_goes_live(facts: ReleaseFacts, user: User) -> str | None:
    if user.id == facts.owner_id or user.has_role(Role.admin):
        return None
    return f"taking a release live is for the owner of '{facts.product_slug}' ({facts.owner_name}) or an admin"


@guard(Forbidden)
def owner_admin_or_ci_reruns(facts: ReleaseFacts, user: User) -> str | None:
    """CI may refresh evidence too: it re-runs suites, it never decides."""
    if user.id == facts.owner_id or user.has_role(Role.admin) or user.has_role(Role.ci):
        return None
    return f"re-running is for the owner of '{facts.product_slug}' ({facts.owner_name}), an admin or ci"


# --- the state the release is in (409) ------------------------------------------------------------------------


def may_become(to: ReleaseState, event: str) -> Guard:
    """The workflow's table allows the move; refused in the words ``workflow.transition`` refuses with."""

    def check(facts: ReleaseFacts, user: User) -> str | None:
        return transition_refusal(facts.release_number, facts.product_slug, facts.state, to, event)

    return Guard(f"may_become_{to.value}", check, IllegalTransition, "state")


@guard(Conflict, field="waiver")
def waiver_when_failed(facts: ReleaseFacts, user: User) -> str | None:
    """A release whose runs failed goes ahead only on the owner's written waiver."""
    if facts.state != S.failed:
        return None
    return f"release {facts.release_number} failed its runs ({facts.error}); signing it off needs a written waiver"


@guard(Conflict, field="state")
def signed_off_to_approve(facts: ReleaseFacts, user: User) -> str | None:
    if facts.state == S.signed_off:
        return None
    return f"release {facts.release_number} is {facts.state.value}; only a signed-off release can be approved"


@guard(Conflict, field="evidence")
def fresh_evidence(facts: ReleaseFacts, user: User) -> str | None:
    """Approval rests on evidence no older than the policy allows."""
    oldest = facts.oldest_evidence
    if oldest is None or facts.now - oldest <= timedelta(days=facts.evidence_max_age_days):
        return None
    return (
        f"the evidence is from {oldest:%Y-%m-%d}, older than the {facts.risk_tier} policy's "
        f"{facts.evidence_max_age_days} days: re-run the suites before approving"
    )


@guard(Conflict, field="evidence")
def live_evidence_when_required(facts: ReleaseFacts, user: User) -> str | None:
    """The offline provider answers from scripts and cannot see a prompt change: where the policy says so, a
    required suite's evidence must come from a real model before anyone approves."""
    if not facts.refuse_offline_evidence or not facts.offline_suites:
        return None
    suites = ", ".join(f"'{name}'" for name in facts.offline_suites)
    return (
        f"the {facts.risk_tier} policy refuses offline evidence: required suite(s) {suites} ran only on the "
        "offline provider, which answers from scripts and cannot see a prompt change; run them on a real model"
    )


@guard(Conflict, field="state")
def signed_off_to_send_back(facts: ReleaseFacts, user: User) -> str | None:
    if facts.state == S.signed_off:
        return None
    state = facts.state.value
    return f"release {facts.release_number} is {state}; only a signed-off release can be sent back for changes"


@guard(Conflict, field="reviewer")
def first_decision(facts: ReleaseFacts, user: User) -> str | None:
    """One decision per reviewer per cycle: approving twice must not count twice."""
    if user.name not in facts.deciders:
        return None
    return f"{user.name} has already decided on release {facts.release_number} of '{facts.product_slug}'"


@guard(Conflict, field="state")
def approved_to_go_live(facts: ReleaseFacts, user: User) -> str | None:
    if facts.state == S.approved:
        return None
    return f"release {facts.release_number} is {facts.state.value}; only an approved release can go live"


@guard(Conflict, field="state")
def signed_off_and_approved(facts: ReleaseFacts, user: User) -> str | None:
    """Checked again at the last gate, so no path around the four-eyes rule reaches employees."""
    if facts.signed_off and len(facts.approvers) >= facts.required_approvals:
        return None
    return f"release {facts.release_number} lacks a current sign-off or {facts.required_approvals} approvals"


@guard(Conflict, field="declared_use")
def not_prohibited(facts: ReleaseFacts, user: User) -> str | None:
    """A product declared for a prohibited practice (AI Act Art. 5(1)(f)) never reaches employees."""
    return facts.prohibited


@guard(Conflict, field="obligations")
def obligations_met(facts: ReleaseFacts, user: User) -> str | None:
    """Every obligation of the product's classification is met with evidence (governance/compliance)."""
    if not facts.unmet_obligations:
        return None
    return f"release {facts.release_number} has unmet obligations: " + "; ".join(facts.unmet_obligations)


@guard(Conflict, field="documents")
def documents_pass_lint(facts: ReleaseFacts, user: User) -> str | None:
    """The policy blocks on personal or special-category data found in the release's documents."""
    if not facts.blocking_findings:
        return None
    return f"the {facts.risk_tier} policy blocks on document findings: " + "; ".join(facts.blocking_findings)


@guard(Conflict, field="state")
def has_runs(facts: ReleaseFacts, user: User) -> str | None:
    if facts.runs:
        return None
    return f"release {facts.release_number} has no runs to repeat ({facts.error or 'it has no suites'})"


# A re-run sends a release back to testing, or adds a run to one still testing.
RERUNNABLE = frozenset({S.testing} | {state for state, moves in ALLOWED.items() if S.testing in moves})


@guard(Conflict, field="state")
def on_its_way(facts: ReleaseFacts, user: User) -> str | None:
    if facts.state in RERUNNABLE:
        return None
    return f"release {facts.release_number} is {facts.state.value}; only a release still on its way can be re-run"


# --- the payload (422) ----------------------------------------------------------------------------------------


@guard(Invalid, field="waiver")
def waiver_only_when_failed(facts: ReleaseFacts, user: User) -> str | None:
    if facts.state != S.passed:
        return None
    return "a waiver is for a failed release; this one passed"


# --- the table ------------------------------------------------------------------------------------------------

# Each action's guards in the order they are checked: the first refusal is the one raised.
RULES: dict[Action, tuple[Guard, ...]] = {
    Action.sign_off: (owner_signs_off, waiver_when_failed, may_become(S.signed_off, "release.signed_off")),
    Action.waive: (owner_signs_off, waiver_only_when_failed, may_become(S.signed_off, "release.signed_off")),
    Action.approve: (
        reviewer("approving a release"),
        not_the_owner,
        not_a_past_owner,
        not_a_signer,
        not_an_author,
        signed_off_to_approve,
        fresh_evidence,
        live_evidence_when_required,
        first_decision,
    ),
    # Rejecting is a decision too: the same independence holds, so a past owner or a signer cannot veto either.
    Action.reject: (
        reviewer("rejecting a release"),
        not_the_owner,
        not_a_past_owner,
        not_a_signer,
        not_an_author,
        may_become(S.rejected, "release.rejected"),
    ),
    # Asking for changes is a decision that keeps the release open: the sign-off is void, the owner fixes it.
    Action.request_changes: (
        reviewer("requesting changes"),
        not_the_owner,
        not_a_past_owner,
        not_a_signer,
        not_an_author,
        signed_off_to_send_back,
        first_decision,
    ),
    Action.go_live: (
        owner_or_admin_goes_live,
        approved_to_go_live,
        signed_off_and_approved,
        not_prohibited,
        obligations_met,
        documents_pass_lint,
    ),
    # No runs to repeat comes first: it is what the release needs, whoever asks.
    Action.rerun: (has_runs, owner_admin_or_ci_reruns, on_its_way),
}


def refusal(action: Action, facts: ReleaseFacts, user: User) -> Refusal | None:
    """The first guard of ``action`` that refuses ``user``, or None when the action is allowed."""
    for check in RULES[action]:
        refused = check(facts, user)
        if refused is not None:
            return refused
    return None


def require(action: Action, facts: ReleaseFacts, user: User) -> None:
    """Let ``action`` pass, or raise its first refusal as the domain error it carries.

    Raises:
        Forbidden: the user may not take this action on this release.
        Conflict: the release is not in a state that allows it.
        Invalid: the payload does not fit the release (a waiver on a release that passed).
    """
    refused = refusal(action, facts, user)
    if refused is not None:
        raise refused.as_error()


def refusals(facts: ReleaseFacts, user: User) -> dict[Action, Refusal | None]:
    """Every action mapped to its refusal, or None where ``user`` may take it now."""
    return {action: refusal(action, facts, user) for action in Action}


def allowed(facts: ReleaseFacts, user: User) -> frozenset[Action]:
    """The actions ``user`` may take on the release now: exactly those the decision functions accept."""
    return frozenset(action for action, refused in refusals(facts, user).items() if refused is None)


# --- what holds a release where it is -------------------------------------------------------------------------


def _sent_back(facts: ReleaseFacts) -> str:
    if facts.changes_requested is None:
        return ""
    reviewer_name, wanted = facts.changes_requested
    return f"changes requested by {reviewer_name}: {wanted}; "


HELD_BY: dict[ReleaseState, Callable[[ReleaseFacts], str]] = {
    S.testing: lambda f: f"runs in progress: {f.finished_runs} of {f.runs} suites finished",
    S.passed: lambda f: (
        f"{_sent_back(f)}every suite passed; waiting for the product owner's sign-off"
        if f.changes_requested is None
        else f"{_sent_back(f)}the owner fixes and publishes, or signs off again"
    ),
    S.failed: lambda f: (
        f"{_sent_back(f)}runs did not pass ({f.error}); "
        "the owner fixes and publishes, re-runs, or signs off with a waiver"
    ),
    S.signed_off: lambda f: (
        f"signed off; waiting for approvals from independent reviewers: {len(f.approvers)} of "
        f"{f.required_approvals} ({f.risk_tier} risk policy)"
    ),
    S.approved: lambda f: "approved; waiting for the owner or an admin to take it live",
    S.live: lambda f: "live: this is what employees get",
    S.retired: lambda f: "retired: a later release went live",
    S.superseded: lambda f: (
        f"superseded by release {f.superseded_by}" if f.superseded_by is not None else "superseded by a newer change"
    ),
    S.rejected: lambda f: f"rejected by {f.rejection[0]}: {f.rejection[1]}" if f.rejection else "rejected",
}


def held_by(facts: ReleaseFacts) -> str:
    """Which rule holds the release in its state, in words: what it waits for, or why it is finished."""
    return HELD_BY[facts.state](facts)
