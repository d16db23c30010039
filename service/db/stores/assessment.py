"""Database side of the school-based assessment: submissions, peers, reviews, and their scope.

The rules themselves live in :mod:`competency_model.assessment`; this module only reads and
writes rows and turns them into the domain records (``EvidenceRecord``, ``Review``), so the
routes stay thin and the same rule code runs in the service, the CLI and the tests.
"""

from __future__ import annotations

import secrets
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from competency_model.assessment import (
    Colleague,
    EvidenceItem,
    EvidenceRecord,
    Review,
    assign_peers,
)
from competency_model.errors import NotFoundError
from service.auth import Principal
from service.db.assessment_models import (
    EvidenceItemRow,
    EvidenceReviewRow,
    EvidenceSubmission,
    PeerAssignmentRow,
)
from service.db.models import School, Teacher

__all__ = [
    "PEERS_PER_SUBMISSION",
    "EvidenceContext",
    "assign_submission_peers",
    "evidence_context",
    "load_evidence",
    "load_reviews",
    "new_id",
    "peers_of",
    "store_review",
    "store_submission",
    "submissions_assigned_to",
]

#: Peer reviewers per submission (the usual 互评 by two colleagues).
PEERS_PER_SUBMISSION = 2


def new_id(prefix: str) -> str:
    """A random opaque id such as ``EV-3f9c0d1e2a4b5c6d`` (fits the API's id pattern)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def store_submission(
    session: Session,
    principal: Principal,
    teacher: Teacher,
    point: str,
    task_id: str | None,
    items: Sequence[EvidenceItem],
) -> tuple[EvidenceSubmission, list[EvidenceItemRow]]:
    """Add a submission and its items to the session (the caller commits)."""
    submission = EvidenceSubmission(
        submission_id=new_id("SUB"),
        teacher_id=teacher.teacher_id,
        school_id=teacher.school_id,
        point=point,
        task_id=task_id,
        submitted_at=datetime.now(UTC),
        submitted_by=principal.key_id,
    )
    session.add(submission)
    session.flush()  # no ORM relationship orders the inserts, so the parent row goes first
    rows = []
    for position, item in enumerate(items):
        row = EvidenceItemRow(
            evidence_id=new_id("EV"),
            submission_id=submission.submission_id,
            position=position,
            **item.model_dump(),
        )
        session.add(row)
        rows.append(row)
    return submission, rows


def assign_submission_peers(session: Session, submission: EvidenceSubmission) -> list[str]:
    """Assign up to two colleagues of the same school, balancing this cycle's review load.

    The seed is derived from the submission id, so the assignment is reproducible from the
    stored data alone. A school with a single teacher gets no peers (the school team still
    rates).
    """
    teachers = session.scalars(
        select(Teacher)
        .where(Teacher.school_id == submission.school_id)
        .order_by(Teacher.teacher_id)
    ).all()
    colleagues = [
        Colleague(teacher_id=t.teacher_id, school_id=t.school_id, research_group=t.research_group)
        for t in teachers
    ]
    k = min(PEERS_PER_SUBMISSION, len(colleagues) - 1)
    if k < 1:
        return []
    load_rows = session.execute(
        select(PeerAssignmentRow.reviewer_id, func.count())
        .join(
            EvidenceSubmission,
            EvidenceSubmission.submission_id == PeerAssignmentRow.submission_id,
        )
        .where(EvidenceSubmission.school_id == submission.school_id)
        .group_by(PeerAssignmentRow.reviewer_id)
    ).all()
    result = assign_peers(
        {submission.submission_id: submission.teacher_id},
        colleagues,
        reviewers_per_submission=k,
        seed=zlib.crc32(submission.submission_id.encode("ascii")),
        existing_load={reviewer: int(n) for reviewer, n in load_rows},
    )
    reviewers = result.reviewers[submission.submission_id]
    now = datetime.now(UTC)
    for reviewer in reviewers:
        session.add(
            PeerAssignmentRow(
                submission_id=submission.submission_id, reviewer_id=reviewer, assigned_at=now
            )
        )
    return reviewers


def peers_of(session: Session, submission_ids: Iterable[str]) -> dict[str, list[str]]:
    """Submission id → assigned peer reviewers (sorted)."""
    ids = list(submission_ids)
    out: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return out
    for row in session.scalars(
        select(PeerAssignmentRow)
        .where(PeerAssignmentRow.submission_id.in_(ids))
        .order_by(PeerAssignmentRow.reviewer_id)
    ):
        out[row.submission_id].append(row.reviewer_id)
    return out


def load_evidence(
    session: Session, *, teacher_ids: Sequence[str] | None = None, school_id: str | None = None
) -> tuple[list[EvidenceSubmission], list[EvidenceRecord]]:
    """Submissions (oldest first) and their items as domain records, for teachers or a school."""
    query = select(EvidenceSubmission)
    if teacher_ids is not None:
        query = query.where(EvidenceSubmission.teacher_id.in_(list(teacher_ids)))
    if school_id is not None:
        query = query.where(EvidenceSubmission.school_id == school_id)
    submissions = list(
        session.scalars(
            query.order_by(EvidenceSubmission.submitted_at, EvidenceSubmission.submission_id)
        )
    )
    by_id = {s.submission_id: s for s in submissions}
    records: list[EvidenceRecord] = []
    if by_id:
        rows = session.scalars(
            select(EvidenceItemRow)
            .where(EvidenceItemRow.submission_id.in_(list(by_id)))
            .order_by(EvidenceItemRow.submission_id, EvidenceItemRow.position)
        )
        for row in rows:
            sub = by_id[row.submission_id]
            records.append(_record(row, sub))
    return submissions, records


def _record(row: EvidenceItemRow, submission: EvidenceSubmission) -> EvidenceRecord:
    return EvidenceRecord(
        evidence_id=row.evidence_id,
        submission_id=row.submission_id,
        teacher_id=submission.teacher_id,
        point=submission.point,
        submitted_at=submission.submitted_at,
        artifact=row.artifact,
        title=row.title,
        media=row.media,  # type: ignore[arg-type]
        link=row.link,
        file_ref=row.file_ref,
        duration_minutes=row.duration_minutes,
        lesson=row.lesson,
        class_name=row.class_name,
    )


def load_reviews(session: Session, evidence_ids: Iterable[str]) -> list[Review]:
    """Every stored review of these evidence items, oldest first, as domain records."""
    ids = list(evidence_ids)
    if not ids:
        return []
    rows = session.scalars(
        select(EvidenceReviewRow)
        .where(EvidenceReviewRow.evidence_id.in_(ids))
        .order_by(EvidenceReviewRow.created_at, EvidenceReviewRow.id)
    )
    return [
        Review(
            evidence_id=r.evidence_id,
            reviewer_id=r.reviewer_id,
            role=r.role,  # type: ignore[arg-type]
            rating=r.rating,  # type: ignore[arg-type]
            comment=r.comment,
            created_at=r.created_at,
        )
        for r in rows
    ]


@dataclass
class EvidenceContext:
    """One evidence item with its submission, owner, school and assigned peers."""

    item: EvidenceItemRow
    submission: EvidenceSubmission
    teacher: Teacher
    school: School
    peers: list[str]

    @property
    def record(self) -> EvidenceRecord:
        """The item as a domain record."""
        return _record(self.item, self.submission)


def evidence_context(session: Session, principal: Principal, evidence_id: str) -> EvidenceContext:
    """The evidence item if this key may see it, else 404 (same message either way).

    Visible to whoever sees the owning teacher (the teacher, their school, their platform) and
    to the teacher keys of the colleagues assigned to review it.
    """
    missing = NotFoundError(
        f"evidence {evidence_id!r} not found", details={"evidence_id": evidence_id}
    )
    row = session.execute(
        select(EvidenceItemRow, EvidenceSubmission, Teacher, School)
        .join(
            EvidenceSubmission,
            EvidenceSubmission.submission_id == EvidenceItemRow.submission_id,
        )
        .join(Teacher, Teacher.teacher_id == EvidenceSubmission.teacher_id)
        .join(School, School.school_id == Teacher.school_id)
        .where(EvidenceItemRow.evidence_id == evidence_id)
    ).first()
    if row is None:
        raise missing
    item, submission, teacher, school = row
    peers = peers_of(session, [submission.submission_id]).get(submission.submission_id, [])
    is_peer = principal.role == "teacher" and principal.scope in peers
    if not (principal.can_see_teacher(teacher, school) or is_peer):
        raise missing
    return EvidenceContext(
        item=item, submission=submission, teacher=teacher, school=school, peers=peers
    )


def submissions_assigned_to(session: Session, reviewer_id: str) -> list[EvidenceSubmission]:
    """Submissions a teacher was assigned to peer-review (互评), oldest first."""
    return list(
        session.scalars(
            select(EvidenceSubmission)
            .join(
                PeerAssignmentRow,
                PeerAssignmentRow.submission_id == EvidenceSubmission.submission_id,
            )
            .where(PeerAssignmentRow.reviewer_id == reviewer_id)
            .order_by(EvidenceSubmission.submitted_at)
        )
    )


def store_review(session: Session, review: Review, key_id: str) -> None:
    """Add a checked review of one evidence item, with the key that gave it (append-only)."""
    session.add(
        EvidenceReviewRow(
            evidence_id=review.evidence_id,
            reviewer_id=review.reviewer_id,
            role=review.role,
            rating=review.rating,
            comment=review.comment,
            created_at=review.created_at,
            key_id=key_id,
        )
    )
