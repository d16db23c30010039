"""Request bodies and errors of the school-based assessment endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from competency_model.assessment import EvidenceItem
from competency_model.errors import NengliError
from service.api.schemas.common import ID_PATTERN, StrictModel

__all__ = ["EvidenceSubmissionIn", "InvalidEvidenceError", "InvalidReviewError", "ReviewIn"]


class InvalidEvidenceError(NengliError):
    """An evidence submission breaks the framework's rules; ``details`` lists every violation."""

    slug = "invalid-evidence"
    http_status = 422


class InvalidReviewError(NengliError):
    """A review breaks a review rule; ``details['violations']`` says which."""

    slug = "invalid-review"
    http_status = 422


class EvidenceSubmissionIn(StrictModel):
    """Body of ``POST /v1/teachers/{id}/evidence``: metadata of every item for one point."""

    point: str = Field(min_length=1, max_length=8, examples=["A6"])
    task_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The practice task (TSK-…) it comes from."
    )
    items: list[EvidenceItem] = Field(min_length=1, max_length=20)


class ReviewIn(StrictModel):
    """Body of ``POST /v1/evidence/{id}/reviews``.

    ``reviewer_id`` is only for platform/admin keys acting on behalf of a teacher (self and peer
    reviews); teacher keys review as themselves and school keys as their school team.
    """

    role: Literal["self", "peer", "school"]
    rating: Literal["优秀", "合格", "不合格"]
    comment: str = Field(min_length=1, max_length=2000)
    reviewer_id: str | None = Field(default=None, pattern=ID_PATTERN)
