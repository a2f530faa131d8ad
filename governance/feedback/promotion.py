"""Feedback becomes a test: one action adds a case built from a feedback item to one of the product's suites.

The case is published as the suite's next version through the catalog, so it cuts a release and queues its
runs like any other change of the product.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import record_event
from governance.catalog.components import PublishResult, find_owned, get_version, publish_suite
from governance.catalog.models import ComponentKind
from governance.catalog.products import get_product
from governance.catalog.schemas import SuitePublish
from governance.feedback import repository as repo
from governance.feedback.models import Feedback
from governance.feedback.schemas import Promotion
from governance.kernel.errors import Conflict, Invalid, NotFound

# How close to the bad answer a new answer may come before the case fails.
NEGATIVE_SIMILARITY = 0.8


def _case_variable(spec: dict[str, Any]) -> str | None:
    """The one variable every case of the suite sets (the user's message, typically), or None if not exactly one."""
    keys = [set((case.get("vars") or {}).keys()) for case in spec.get("cases", [])]
    common = set.intersection(*keys) if keys else set()
    return next(iter(common)) if len(common) == 1 else None


def _case(feedback: Feedback, request: Promotion, spec: dict[str, Any]) -> dict[str, Any]:
    if feedback.texts_deleted_at is not None or not feedback.input:
        raise Conflict(f"feedback {feedback.id} has no input to test with (none was sent, or retention deleted it)")
    if request.vars is not None:
        variables = dict(request.vars)
    else:
        name = _case_variable(spec)
        if name is None:
            raise Invalid(f"suite '{request.suite}' has no single case variable for the input: give vars", field="vars")
        variables = {name: feedback.input}
    if request.mode == "negative":
        if not feedback.output:
            raise Conflict(f"feedback {feedback.id} has no output to turn into a negative example")
        asserts: list[dict[str, Any]] = [
            {"type": "not-similar", "value": feedback.output, "threshold": NEGATIVE_SIMILARITY}
        ]
    else:
        if not request.asserts:
            raise Invalid("mode 'asserts' needs at least one assert of the expected behaviour", field="asserts")
        asserts = [dict(item) for item in request.asserts]
    summary = (feedback.comment or "").strip().splitlines()[0][:160] if feedback.comment else ""
    return {
        "id": request.case_id or f"feedback-{feedback.id}",
        "description": f"From production feedback {feedback.id} on release {feedback.release_number}"
        + (f": {summary}" if summary else ""),
        "tags": ["from-feedback"],
        "vars": variables,
        "asserts": asserts,
    }


def promote_feedback(
    session: Session, actor: User, slug: str, feedback_id: int, request: Promotion
) -> tuple[Feedback, PublishResult]:
    """Add a case made from the feedback to the suite and publish the suite's next version."""
    product = get_product(session, slug)
    feedback = repo.feedback_by_id(session, product.id, feedback_id)
    if feedback is None:
        raise NotFound(f"'{slug}' has no feedback {feedback_id}", field="feedback_id")
    suite = find_owned(session, product, ComponentKind.suite, request.suite)
    spec = copy.deepcopy(get_version(session, suite, suite.head_number).content["spec"])
    case = _case(feedback, request, spec)
    if any(existing.get("id") == case["id"] for existing in spec.get("cases", [])):
        raise Conflict(f"suite '{request.suite}' already has a case '{case['id']}'", field="case_id")
    spec.setdefault("cases", []).append(case)
    message = request.message or f"Case {case['id']} from production feedback {feedback.id}"
    result = publish_suite(session, actor, slug, request.suite, SuitePublish(spec=spec, message=message))
    record_event(
        session,
        actor=actor,
        action="feedback.promoted",
        subject_type="suite",
        subject=f"{slug}/{request.suite}",
        product_slug=slug,
        after={"feedback_id": feedback.id, "case_id": case["id"], "suite_version": result.version.number},
    )
    return feedback, result
