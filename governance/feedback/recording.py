"""Receiving feedback from the running product: check the releases it names, redact, store, audit, check limits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.users import require_serves
from governance.audit.trail import record_event
from governance.catalog.products import get_product
from governance.feedback import repository as repo
from governance.feedback.models import Feedback
from governance.feedback.redaction import redact
from governance.feedback.schemas import FeedbackItem
from governance.feedback.thresholds import check_thresholds
from governance.kernel.errors import FieldProblem, Invalid


def _score(item: FeedbackItem) -> tuple[str | None, float | None]:
    if item.thumbs is not None:
        return item.thumbs, 1.0 if item.thumbs == "up" else 0.0
    if item.stars is not None:
        return f"{item.stars}/5", (item.stars - 1) / 4
    return None, None


def record_feedback(
    session: Session, actor: User, slug: str, items: list[FeedbackItem], *, field_prefix: str = ""
) -> list[Feedback]:
    """Store a batch of feedback on a product's releases, all or nothing.

    Every item must name a release of the product that has gone live; a bad one refuses the whole batch,
    naming each bad item's field. Personal data in the comment, input and output is redacted before storing.
    A runtime user sends feedback only on the products it serves.
    """
    require_serves(actor, slug)
    product = get_product(session, slug)
    releases = repo.releases_by_number(session, product.id, [item.release for item in items])
    problems = []
    for index, item in enumerate(items):
        where = f"{field_prefix}[{index}].release" if field_prefix else "release"
        release = releases.get(item.release)
        if release is None:
            problems.append(FieldProblem(where, f"'{slug}' has no release {item.release}"))
        elif release.state not in repo.PRODUCTION_STATES:
            problems.append(FieldProblem(where, f"release {item.release} of '{slug}' never went live"))
    if problems:
        raise Invalid(f"feedback names releases of '{slug}' that never ran in production", problems=problems)
    rows = []
    for item in items:
        rating, score = _score(item)
        comment, in_comment = redact(item.comment)
        text_in, in_input = redact(item.input)
        text_out, in_output = redact(item.output)
        rows.append(
            Feedback(
                product_id=product.id,
                release_id=releases[item.release].id,
                release_number=item.release,
                conversation_id=item.conversation_id,
                rating=rating,
                score=score,
                human_action=item.human_action,
                tags=list(item.tags),
                comment=comment,
                input=text_in,
                output=text_out,
                redactions=in_comment + in_input + in_output,
                created_by=actor.name,
            )
        )
    session.add_all(rows)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="feedback.received",
        subject_type="product",
        subject=slug,
        product_slug=slug,
        after={
            "count": len(rows),
            "first_id": rows[0].id,
            "last_id": rows[-1].id,
            "releases": sorted({row.release_number for row in rows}),
            "redactions": sum(row.redactions for row in rows),
        },
    )
    check_thresholds(session, product)
    return rows
