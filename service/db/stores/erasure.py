"""The rows of one teacher, deleted in one transaction, and the counts they leave behind.

:func:`erase_teacher_rows` is the only place that knows which tables hold a teacher's personal
data. It runs inside the caller's transaction: either every row goes, the aggregate counters
are raised and the tombstone is written, or (on any error) nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db.assessment_models import (
    EvidenceItemRow,
    EvidenceReviewRow,
    EvidenceSubmission,
    PeerAssignmentRow,
)
from service.db.erasure_models import (
    ErasedGrades,
    ErasedProgress,
    ErasureInProgress,
    TeacherErasure,
)
from service.db.models import ApiKey, Event, Grade, Response, School, Teacher
from service.db.scale_models import RegionPairing, SchoolPairingSummary, TeacherMastery

__all__ = [
    "ProgressContribution",
    "erase_teacher_rows",
    "erased_ids_since",
    "lock_teacher",
    "teacher_records",
]


@dataclass(frozen=True)
class ProgressContribution:
    """What one teacher adds to progress under one policy (see ``ErasedProgress``)."""

    policy: str
    started: bool
    compliant: bool
    hours: float
    practice_hours: float


def lock_teacher(session: Session, teacher_id: str) -> tuple[Teacher, School] | None:
    """The teacher and school, locked against a concurrent erasure or update (PostgreSQL)."""
    query = (
        select(Teacher, School)
        .join(School, School.school_id == Teacher.school_id)
        .where(Teacher.teacher_id == teacher_id)
        .with_for_update(of=Teacher)
    )
    row = session.execute(query).first()
    return (row[0], row[1]) if row is not None else None


def teacher_records(session: Session, teacher_id: str) -> tuple[list[Any], list[Any]]:
    """The teacher's ``(events, grades)`` rows, which the contribution is computed from."""
    events = session.execute(
        select(Event.teacher_id, Event.item_id, Event.event, Event.timestamp).where(
            Event.teacher_id == teacher_id
        )
    ).all()
    grades = session.execute(
        select(Grade.teacher_id, Grade.point, Grade.grade, Grade.assessed_at).where(
            Grade.teacher_id == teacher_id
        )
    ).all()
    return list(events), list(grades)


def _upsert(session: Session, table: Any, keys: dict[str, Any], counts: dict[str, Any]) -> None:
    """Add ``counts`` to the row at ``keys`` (created at zero): atomic on both backends."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(table).values(**keys, **counts)
    columns = table.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: columns[name] + statement.excluded[name] for name in counts},
    )
    session.execute(statement)


def _delete(session: Session, statement: Any) -> int:
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def erase_teacher_rows(
    session: Session,
    teacher: Teacher,
    school: School,
    contributions: list[ProgressContribution],
    latest_grades: Mapping[str, str],
    *,
    key_id: str,
    role: str,
) -> dict[str, int]:
    """Delete every personal row of ``teacher``, raise the counters, write the tombstone.

    Returns rows deleted per table. Does not commit: the caller's transaction holds it all.
    """
    teacher_id = teacher.teacher_id
    session.add(ErasureInProgress(teacher_id=teacher_id))
    session.flush()  # the review triggers read it
    submissions = select(EvidenceSubmission.submission_id).where(
        EvidenceSubmission.teacher_id == teacher_id
    )
    items = select(EvidenceItemRow.evidence_id).where(
        EvidenceItemRow.submission_id.in_(submissions)
    )
    deleted = {
        "evidence_reviews": _delete(
            session,
            delete(EvidenceReviewRow).where(
                or_(
                    EvidenceReviewRow.evidence_id.in_(items),
                    EvidenceReviewRow.reviewer_id == teacher_id,
                )
            ),
        ),
        "peer_assignments": _delete(
            session,
            delete(PeerAssignmentRow).where(
                or_(
                    PeerAssignmentRow.submission_id.in_(submissions),
                    PeerAssignmentRow.reviewer_id == teacher_id,
                )
            ),
        ),
    }
    deleted["evidence_items"] = _delete(
        session, delete(EvidenceItemRow).where(EvidenceItemRow.submission_id.in_(submissions))
    )
    deleted["evidence_submissions"] = _delete(
        session, delete(EvidenceSubmission).where(EvidenceSubmission.teacher_id == teacher_id)
    )
    for name, table in (("responses", Response), ("grades", Grade), ("events", Event)):
        deleted[name] = _delete(session, delete(table).where(table.teacher_id == teacher_id))
    deleted["api_keys"] = _delete(
        session, delete(ApiKey).where(ApiKey.role == "teacher", ApiKey.scope == teacher_id)
    )
    deleted["teachers"] = _delete(session, delete(Teacher).where(Teacher.teacher_id == teacher_id))
    # Stored diagnoses name the teacher too: their mastery row, their school's pairing summary
    # (its best teachers per point) and their region's pairing result (its mentors). The
    # summary and the result are made again from the remaining teachers at the next read.
    deleted["teacher_mastery"] = _delete(
        session,
        delete(TeacherMastery).where(
            TeacherMastery.region == school.region, TeacherMastery.teacher_id == teacher_id
        ),
    )
    deleted["school_pairing_summary"] = _delete(
        session,
        delete(SchoolPairingSummary).where(
            SchoolPairingSummary.region == school.region,
            SchoolPairingSummary.school_id == school.school_id,
        ),
    )
    deleted["region_pairing"] = _delete(
        session, delete(RegionPairing).where(RegionPairing.region == school.region)
    )
    for part in contributions:
        _upsert(
            session,
            ErasedProgress,
            {"school_id": school.school_id, "policy": part.policy},
            {
                "teachers": 1,
                "teachers_started": int(part.started),
                "teachers_compliant": int(part.compliant),
                "hours_sum": float(part.hours),
                "practice_hours_sum": float(part.practice_hours),
            },
        )
    for point, grade in sorted(latest_grades.items()):
        _upsert(
            session,
            ErasedGrades,
            {"school_id": school.school_id, "point": point, "grade": grade},
            {"n": 1},
        )
    session.execute(delete(ErasureInProgress).where(ErasureInProgress.teacher_id == teacher_id))
    session.add(
        TeacherErasure(
            teacher_id=teacher_id,
            region=school.region,
            erased_at=datetime.now(UTC),
            key_id=key_id,
            role=role,
            rows_deleted=json.dumps(deleted, sort_keys=True),
        )
    )
    session.flush()
    return deleted


def erased_ids_since(session: Session, after_id: int) -> tuple[int, list[str]]:
    """The newest tombstone id, and the teacher ids erased after ``after_id`` not in use again.

    A worker forgets these teachers from its in-memory model; an id a platform registered
    again after the erasure belongs to a new record and is left alone.
    """
    newest = session.scalar(select(func.max(TeacherErasure.id))) or 0
    query = (
        select(TeacherErasure.teacher_id)
        .where(TeacherErasure.id > after_id)
        .where(TeacherErasure.teacher_id.not_in(select(Teacher.teacher_id)))
        .order_by(TeacherErasure.id)
    )
    return int(newest), [str(t) for t in session.scalars(query)]
