"""What the running product sends about its answers, and what owners read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from governance.feedback.models import Feedback, HumanAction
from governance.kernel.fields import ComponentName, Message, Strict, Text

# Bounds on what one item may carry: feedback is evidence about answers, not a transcript store.
COMMENT_MAX = 4_000
TEXT_MAX = 20_000
TAGS_MAX = 20
BATCH_MAX = 500

Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class FeedbackItem(Strict):
    """Feedback on one answer of a release of the product."""

    release: int = Field(ge=1, le=2**63 - 1, description="Number of the release that produced the answer.")
    conversation_id: Annotated[Text, Field(max_length=200)] | None = None
    thumbs: Literal["up", "down"] | None = Field(default=None, description="A thumbs rating (or give `stars`).")
    stars: int | None = Field(default=None, ge=1, le=5, description="A 1 to 5 rating (or give `thumbs`).")
    human_action: HumanAction | None = Field(
        default=None, description="What the person in the loop did with the output: accepted, edited or overrode."
    )
    comment: Annotated[Text, Field(max_length=COMMENT_MAX)] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    input: Annotated[Text, Field(max_length=TEXT_MAX, description="What the user asked.")] | None = None
    output: Annotated[Text, Field(max_length=TEXT_MAX, description="What the product answered.")] | None = None

    @model_validator(mode="after")
    def _one_rating(self) -> FeedbackItem:
        if self.thumbs is not None and self.stars is not None:
            raise ValueError("give either thumbs or stars, not both")
        return self


class FeedbackBatch(Strict):
    items: list[FeedbackItem] = Field(min_length=1, max_length=BATCH_MAX)


class FeedbackView(BaseModel):
    id: int
    release: int
    conversation_id: str | None
    rating: str | None
    score: float | None
    human_action: HumanAction | None
    tags: list[str]
    comment: str | None
    input: str | None
    output: str | None
    redactions: int = Field(description="Pieces of personal data replaced before storing.")
    texts_deleted: bool = Field(description="The retention period has deleted the texts; the counts remain.")
    created_by: str
    created_at: datetime


class FeedbackAccepted(BaseModel):
    accepted: int
    ids: list[int]
    redactions: int


class Promotion(Strict):
    """Turn a feedback item into a case of one of the product's suites, publishing its next version."""

    suite: ComponentName
    mode: Literal["negative", "asserts"] = Field(
        default="negative",
        description="negative: the stored output becomes an example the answer must not resemble; "
        "asserts: the case checks the behaviour given in `asserts`.",
    )
    case_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")] | None = None
    asserts: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    vars: dict[str, Text] | None = Field(
        default=None,
        description="The case's variables; by default the feedback's input fills the suite's one case variable.",
    )
    message: Message


class KpiAlertView(BaseModel):
    id: int
    kpi: str
    value: float
    threshold: dict[str, Any]
    volume: int
    release: int
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str


class Acknowledgement(Strict):
    note: Annotated[Text, Field(default="", max_length=2000)]


def feedback_view(row: Feedback) -> FeedbackView:
    return FeedbackView(
        id=row.id,
        release=row.release_number,
        conversation_id=row.conversation_id,
        rating=row.rating,
        score=row.score,
        human_action=row.human_action,
        tags=list(row.tags or []),
        comment=row.comment,
        input=row.input,
        output=row.output,
        redactions=row.redactions,
        texts_deleted=row.texts_deleted_at is not None,
        created_by=row.created_by,
        created_at=row.created_at,
    )
