"""Reads of the counters erased teachers left in school and region progress (no ids)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.erasure_models import ErasedGrades, ErasedProgress
from service.db.models import School, Teacher

__all__ = ["ErasedCounts", "erased_by_school", "erased_grade_counts"]


@dataclass(frozen=True)
class ErasedCounts:
    """Erased teachers of one school under one policy."""

    school_id: str
    city: str | None
    district: str | None
    teachers: int
    started: int
    compliant: int
    hours_sum: float
    practice_hours_sum: float
    #: Whether the school still has live teachers (else only the counters keep it counted).
    has_live_teachers: bool
    #: The school's rollout batch (its teachers' cycle start, for the cycle-ended count).
    rollout_batch: int | None = None


def erased_by_school(session: Session, region: str, policy: str) -> list[ErasedCounts]:
    """The counters of every school of ``region`` under ``policy``, ordered by school."""
    live = select(Teacher.school_id).where(Teacher.school_id == ErasedProgress.school_id).exists()
    query = (
        select(
            ErasedProgress.school_id,
            School.city,
            School.district,
            ErasedProgress.teachers,
            ErasedProgress.teachers_started,
            ErasedProgress.teachers_compliant,
            ErasedProgress.hours_sum,
            ErasedProgress.practice_hours_sum,
            live,
            School.rollout_batch,
        )
        .join(School, School.school_id == ErasedProgress.school_id)
        .where(School.region == region, ErasedProgress.policy == policy)
        .order_by(ErasedProgress.school_id)
    )
    return [
        ErasedCounts(
            school_id=str(row[0]),
            city=row[1],
            district=row[2],
            teachers=int(row[3]),
            started=int(row[4]),
            compliant=int(row[5]),
            hours_sum=float(row[6]),
            practice_hours_sum=float(row[7]),
            has_live_teachers=bool(row[8]),
            rollout_batch=None if row[9] is None else int(row[9]),
        )
        for row in session.execute(query).all()
    ]


def erased_grade_counts(session: Session, region: str) -> dict[tuple[str, str], int]:
    """Latest grades of the region's erased teachers: ``{(point, grade): n}``."""
    query = (
        select(ErasedGrades.point, ErasedGrades.grade, func.sum(ErasedGrades.n))
        .join(School, School.school_id == ErasedGrades.school_id)
        .where(School.region == region)
        .group_by(ErasedGrades.point, ErasedGrades.grade)
    )
    return {(str(p), str(g)): int(n) for p, g, n in session.execute(query).all()}
