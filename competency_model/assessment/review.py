"""Self, peer and school ratings of evidence items, and the point result they lead to.

Each evidence item is rated 优秀/合格/不合格 with a comment by the teacher (自评), by colleagues
assigned as peers (互评) and by the school's assessment team (学校考核小组). The point result
follows the framework's :class:`~competency_model.framework.RatingRule` (reused, never
re-implemented here); only the school team's rating is final. Peer and self results are computed
with the same rule so a teacher can see where their own view, their colleagues' and the school's
part — the disagreement between peers and school is reported per item, not hidden.

The school rating is audited rather than overwritten: a revision appends a new rating (with its
comment as the reason) and the full history stays in :attr:`ItemReview.school_history`.

Review rules (``Violation.rule``) checked by :func:`check_review`
------------------------------------------------------------------
``self_review_by_other``  a self-assessment from someone other than the evidence owner
``peer_is_owner``         a teacher reviewing their own evidence as a peer
``peer_not_assigned``     a peer review from a colleague not assigned to this evidence
``school_is_owner``       the evidence owner giving the school rating
``duplicate_review``      a second self/peer review of the same item by the same reviewer
``rating_closed``         a self/peer review after the school's final rating
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from competency_model.framework import RatingRule
from competency_model.plan import Violation

__all__ = [
    "ROLES",
    "ItemReview",
    "PointReview",
    "Review",
    "SchoolRating",
    "check_review",
    "peer_consensus",
    "summarize_item",
    "summarize_point",
]

ROLES: tuple[str, ...] = ("self", "peer", "school")
Rating = Literal["优秀", "合格", "不合格"]
#: Higher is better; used to order ratings and measure gaps (优秀 2, 合格 1, 不合格 0).
_RANK = {"优秀": 2, "合格": 1, "不合格": 0}


class Review(BaseModel):
    """One rating of one evidence item by one reviewer."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    evidence_id: str = Field(min_length=1, max_length=64)
    reviewer_id: str = Field(min_length=1, max_length=64)
    role: Literal["self", "peer", "school"]
    rating: Rating
    comment: str = Field(min_length=1, max_length=2000)
    created_at: datetime


class SchoolRating(BaseModel):
    """One entry of the school team's audited rating history of an item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rating: Rating
    reviewer_id: str
    comment: str
    created_at: datetime


class ItemReview(BaseModel):
    """All ratings of one evidence item and how far peers and the school agree."""

    model_config = ConfigDict(extra="forbid")

    evidence_id: str
    self_rating: Rating | None = None
    peer_ratings: dict[str, Rating] = Field(default_factory=dict)
    peer_consensus: Rating | None = None
    school_rating: Rating | None = None
    school_history: list[SchoolRating] = Field(default_factory=list)
    #: True when a peer's rating differs from the school's final rating.
    disagreement: bool = False
    #: School rank minus peer-consensus rank (+1: school rated one level higher than peers).
    peer_school_gap: int | None = None


class PointReview(BaseModel):
    """The review state of one teacher's point: per-item summaries and the three results."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: str
    point: str
    items: list[ItemReview]
    missing_required: int = 0
    self_result: Rating | None = None
    peer_result: Rating | None = None
    #: The final result, set once the school has rated every item.
    school_result: Rating | None = None
    status: Literal["awaiting_self", "awaiting_peers", "awaiting_school", "final"]
    disagreement: bool = False


def peer_consensus(ratings: Iterable[str]) -> str | None:
    """The lower median of the peers' ratings (the more cautious middle for an even count).

    >>> peer_consensus(["优秀", "合格"])
    '合格'
    """
    ordered = sorted(ratings, key=lambda r: _RANK[r])
    if not ordered:
        return None
    return ordered[(len(ordered) - 1) // 2]


def summarize_item(evidence_id: str, reviews: Iterable[Review]) -> ItemReview:
    """Collect the reviews of one item; the latest school rating is the final one."""
    mine = sorted((r for r in reviews if r.evidence_id == evidence_id), key=lambda r: r.created_at)
    self_rating = next((r.rating for r in reversed(mine) if r.role == "self"), None)
    peers: dict[str, Rating] = {}
    for r in mine:
        if r.role == "peer":
            peers[r.reviewer_id] = r.rating
    history = [
        SchoolRating(
            rating=r.rating, reviewer_id=r.reviewer_id, comment=r.comment, created_at=r.created_at
        )
        for r in mine
        if r.role == "school"
    ]
    school = history[-1].rating if history else None
    consensus = peer_consensus(peers.values())
    gap = _RANK[school] - _RANK[consensus] if school is not None and consensus is not None else None
    return ItemReview(
        evidence_id=evidence_id,
        self_rating=self_rating,
        peer_ratings=peers,
        peer_consensus=consensus,  # type: ignore[arg-type]
        school_rating=school,
        school_history=history,
        disagreement=school is not None and any(p != school for p in peers.values()),
        peer_school_gap=gap,
    )


def summarize_point(
    teacher_id: str,
    point: str,
    evidence_ids: Sequence[str],
    reviews: Iterable[Review],
    rule: RatingRule,
    *,
    missing_required: int = 0,
    min_peers: int = 2,
) -> PointReview:
    """The review state of a point from its evidence items and all their reviews.

    Parameters
    ----------
    evidence_ids
        The items of the point's current submission.
    rule
        The point's rating rule (``framework.point(code).rating_rule``).
    missing_required
        Required items not submitted; the rule then fails the point.
    min_peers
        Peer reviews each item needs before the peer stage counts as done.
    """
    reviews = list(reviews)
    items = [summarize_item(e, reviews) for e in evidence_ids]

    def result(ratings: list[str | None]) -> Rating | None:
        if not items or any(r is None for r in ratings):
            return None
        return rule.aggregate([r for r in ratings if r is not None], missing_required)  # type: ignore[return-value]

    self_result = result([i.self_rating for i in items])
    peer_result = result([i.peer_consensus for i in items])
    school_result = result([i.school_rating for i in items])
    if school_result is not None:
        status: Literal["awaiting_self", "awaiting_peers", "awaiting_school", "final"] = "final"
    elif self_result is None:
        status = "awaiting_self"
    elif any(len(i.peer_ratings) < min_peers for i in items):
        status = "awaiting_peers"
    else:
        status = "awaiting_school"
    return PointReview(
        teacher_id=teacher_id,
        point=point,
        items=items,
        missing_required=missing_required,
        self_result=self_result,
        peer_result=peer_result,
        school_result=school_result,
        status=status,
        disagreement=any(i.disagreement for i in items)
        or (peer_result is not None and school_result is not None and peer_result != school_result),
    )


def _v(rule: str, expected: object, actual: object, zh: str, en: str, subject: str) -> Violation:
    return Violation(
        rule=rule, expected=expected, actual=actual, message_zh=zh, message_en=en, subject=subject
    )


def check_review(
    review: Review,
    *,
    owner_id: str,
    assigned_peers: Collection[str],
    existing: Iterable[Review] = (),
) -> list[Violation]:
    """Every rule ``review`` breaks given who owns the evidence and who was assigned to it.

    Parameters
    ----------
    owner_id
        The teacher whose evidence this is.
    assigned_peers
        Teacher ids assigned to review it (see :mod:`~competency_model.assessment.peer_assignment`).
    existing
        Reviews of the item already stored.
    """
    subject = review.evidence_id
    who = review.reviewer_id
    out: list[Violation] = []
    if review.role == "self" and who != owner_id:
        out.append(
            _v(
                "self_review_by_other",
                owner_id,
                who,
                "自评只能由证据提交者本人完成",
                f"only {owner_id} can self-assess this evidence, not {who}",
                subject,
            )
        )
    if review.role == "peer" and who == owner_id:
        out.append(
            _v(
                "peer_is_owner",
                "a colleague",
                who,
                "不能互评自己的证据",
                "a teacher cannot peer-review their own evidence",
                subject,
            )
        )
    elif review.role == "peer" and who not in assigned_peers:
        out.append(
            _v(
                "peer_not_assigned",
                sorted(assigned_peers),
                who,
                f"{who} 未被分配评审该证据",
                f"{who} is not assigned to review this evidence",
                subject,
            )
        )
    if review.role == "school" and who == owner_id:
        out.append(
            _v(
                "school_is_owner",
                "the school team",
                who,
                "学校评定不能由证据提交者本人给出",
                "the evidence owner cannot give the school rating",
                subject,
            )
        )
    earlier = [r for r in existing if r.evidence_id == review.evidence_id]
    if review.role != "school":
        if any(r.role == "school" for r in earlier):
            out.append(
                _v(
                    "rating_closed",
                    "before the school rating",
                    review.role,
                    "学校已作最终评定，不再接受自评或互评",
                    "the school has given its final rating; self and peer reviews are closed",
                    subject,
                )
            )
        if any(r.role == review.role and r.reviewer_id == who for r in earlier):
            out.append(
                _v(
                    "duplicate_review",
                    "one review per reviewer",
                    who,
                    f"{who} 已评过该证据",
                    f"{who} has already reviewed this evidence as {review.role}",
                    subject,
                )
            )
    return out
