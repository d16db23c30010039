"""Tables of PIPL erasure: the tombstone, the counts erased teachers leave in aggregates.

The schema is owned by Alembic (``service/migrations/versions/0006_erasure.py``); see
``docs/operations.md`` for why these tables and no others survive an erasure.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.models import Base, UTCDateTime

__all__ = ["ErasedGrades", "ErasedProgress", "ErasureInProgress", "TeacherErasure"]


class TeacherErasure(Base):
    """Tombstone of one erasure: who erased which (pseudonymous) teacher id, when, where.

    It keeps the id only, as the read audit does, so that an auditor can answer "was T… erased,
    by whom and when"; the teacher's school, stage, subject, 教研组 and records are gone.
    """

    __tablename__ = "teacher_erasures"
    __table_args__ = (Index("ix_teacher_erasures_teacher", "teacher_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    teacher_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    #: JSON ``{table: rows deleted}``.
    rows_deleted: Mapped[str] = mapped_column(Text)


class ErasedProgress(Base):
    """What the erased teachers of one school added to progress under one policy (no ids)."""

    __tablename__ = "erased_progress"

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    policy: Mapped[str] = mapped_column(String(32), primary_key=True)
    teachers: Mapped[int] = mapped_column(Integer)
    teachers_started: Mapped[int] = mapped_column(Integer)
    teachers_compliant: Mapped[int] = mapped_column(Integer)
    hours_sum: Mapped[float] = mapped_column(Float)
    practice_hours_sum: Mapped[float] = mapped_column(Float)


class ErasedGrades(Base):
    """Latest assessment grades of erased teachers, counted per school, point and grade."""

    __tablename__ = "erased_grades"

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    point: Mapped[str] = mapped_column(String(8), primary_key=True)
    grade: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ErasureInProgress(Base):
    """Non-empty only inside an erasure's transaction: unlocks that teacher's reviews."""

    __tablename__ = "erasure_in_progress"

    teacher_id: Mapped[str] = mapped_column(String(32), primary_key=True)
