"""Re-certifications as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from governance.recertification.models import Recertification, RecertificationState


class RecertificationView(BaseModel):
    id: int
    release_id: int
    state: RecertificationState
    runs: list[int]
    failing_cases: list[dict[str, Any]] = Field(description="Case executions that passed at go-live and fail now.")
    cut_release_id: int | None = Field(description="The release a regression cut for revalidation.")
    started_by: str
    started_at: datetime
    finished_at: datetime | None


def recertification_view(item: Recertification) -> RecertificationView:
    return RecertificationView(
        id=item.id,
        release_id=item.release_id,
        state=item.state,
        runs=list(item.run_ids),
        failing_cases=list(item.failing_cases),
        cut_release_id=item.cut_release_id,
        started_by=item.started_by,
        started_at=item.started_at,
        finished_at=item.finished_at,
    )
