"""Tables that let the service answer at province scale without reading a region per request.

* ``recommendation_lists`` holds the batch's precomputed top-N per teacher and kind, tagged with
  the model version, with each item's rendered reasons (migration 0012); ``list_pointers`` says
  which version each region serves, so a new version is loaded beside the old one and switched
  to in one transaction (readers never see a mix).
  On PostgreSQL the list table is partitioned by region (migration 0007).
* ``school_progress`` and ``school_grades`` are per-school aggregates (teachers, 学时 sums,
  compliant teachers per policy basis; latest grades per point) from which the region, city,
  district and school dashboards are summed. ``progress_dirty`` is filled by database
  triggers whenever a school's teachers, events or grades change, and the aggregates of those
  schools are recomputed at the next read (:mod:`service.db.progress_summary`).
* ``teacher_progress`` and ``school_monthly`` (migration 0009) are written in the same refresh:
  each teacher's 学时 and status, and 学时 per month per school and 教研组, so the 未达标名单 and
  the trends are indexed queries. ``teacher_mastery`` keeps each teacher's diagnosis per model
  version and day; ``mastery_dirty`` (triggers) marks the schools whose rows changed since.
* ``school_pairing_summary`` and ``region_pairing`` (migration 0013): what 结对帮扶 needs of a
  school (teachers, mean mastery and three best teachers per point), written with its
  ``teacher_mastery`` rows, and the region's last pairing result under a hash of its inputs.

Every aggregate carries its school's region (migration 0011), kept so by the foreign key
``(region, school_id) → schools`` (``ON UPDATE CASCADE``): the row-level policies by region
reach them all, and on PostgreSQL ``teacher_progress`` and ``teacher_mastery`` — the two that
grow with teachers — are partitioned by it, so their queries name the region.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.models import Base, UTCDateTime

__all__ = [
    "ListPointer",
    "ListVersion",
    "ProgressDirty",
    "RecommendationListRow",
    "RegionGrades",
    "RegionPairing",
    "SchoolGrades",
    "SchoolGradesFresh",
    "MasteryDirty",
    "SchoolMonthly",
    "SchoolPairingSummary",
    "SchoolProgress",
    "TeacherMastery",
    "TeacherProgress",
]


def _school_key(table: str) -> ForeignKeyConstraint:
    """``(region, school_id) → schools``: a school moving region moves these rows with it."""
    return ForeignKeyConstraint(
        ["region", "school_id"],
        ["schools.region", "schools.school_id"],
        name=f"fk_{table}_school",
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


def _region() -> Mapped[str]:
    return mapped_column(String(64))


class RecommendationListRow(Base):
    """One item of a teacher's precomputed list (rank 1 is the best)."""

    __tablename__ = "recommendation_lists"
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    teacher_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    #: The item's reasons as the API sends them (a JSON array of strings), rendered by the batch
    #: from this row's model version; NULL when the batch file had none (migration 0012).
    reasons_zh: Mapped[str | None] = mapped_column(Text, nullable=True)
    reasons_en: Mapped[str | None] = mapped_column(Text, nullable=True)


class ListVersion(Base):
    """A loaded set of lists of one region: what was loaded, when and from which file."""

    __tablename__ = "list_versions"

    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    n_rows: Mapped[int] = mapped_column(Integer)
    n_teachers: Mapped[int] = mapped_column(Integer)
    source_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListPointer(Base):
    """The model version whose lists a region serves (switched in one transaction)."""

    __tablename__ = "list_pointers"

    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    switched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchoolProgress(Base):
    """学时 aggregates of one school under one policy basis (a hash of hour rules + catalog)."""

    __tablename__ = "school_progress"
    __table_args__ = (_school_key("school_progress"),)

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = _region()
    basis: Mapped[str] = mapped_column(String(16), primary_key=True)
    n_teachers: Mapped[int] = mapped_column(Integer)
    n_started: Mapped[int] = mapped_column(Integer)
    n_compliant: Mapped[int] = mapped_column(Integer)
    sum_hours: Mapped[float] = mapped_column(Float)
    sum_practice_hours: Mapped[float] = mapped_column(Float)
    sum_online_hours: Mapped[float] = mapped_column(Float)


class SchoolGrades(Base):
    """Teachers of one school whose latest grade on ``point`` is ``grade``."""

    __tablename__ = "school_grades"
    __table_args__ = (_school_key("school_grades"),)

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = _region()
    point: Mapped[str] = mapped_column(String(8), primary_key=True)
    grade: Mapped[str] = mapped_column(String(8), primary_key=True)
    n_teachers: Mapped[int] = mapped_column(Integer)


class RegionGrades(Base):
    """``school_grades`` summed over a region's schools (recomputed when one of them changes)."""

    __tablename__ = "region_grades"

    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    point: Mapped[str] = mapped_column(String(8), primary_key=True)
    grade: Mapped[str] = mapped_column(String(8), primary_key=True)
    n_teachers: Mapped[int] = mapped_column(Integer)


class SchoolGradesFresh(Base):
    """Schools whose ``school_grades`` rows are current (a school may have none)."""

    __tablename__ = "school_grades_fresh"
    __table_args__ = (_school_key("school_grades_fresh"),)

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = _region()


class ProgressDirty(Base):
    """Schools whose aggregates are stale (written by triggers on teachers, events, grades)."""

    __tablename__ = "progress_dirty"
    __table_args__ = (_school_key("progress_dirty"),)

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = _region()


class TeacherProgress(Base):
    """One teacher's 学时 and status under one policy basis (written with ``school_progress``)."""

    __tablename__ = "teacher_progress"
    __table_args__ = (
        Index("ix_teacher_progress_school", "school_id", "basis"),
        # The 未达标名单's order within a region, so a keyset page is an index range scan.
        Index(
            "ix_teacher_progress_behind",
            "basis",
            "region",
            "compliant",
            "behind_order",
            "teacher_id",
        ),
        _school_key("teacher_progress"),
    )

    basis: Mapped[str] = mapped_column(String(16), primary_key=True)
    teacher_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(32))
    #: The partition key on PostgreSQL, hence in the primary key (a teacher has one region).
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    hours: Mapped[float] = mapped_column(Float)
    practice_hours: Mapped[float] = mapped_column(Float)
    online_hours: Mapped[float] = mapped_column(Float)
    started: Mapped[int] = mapped_column(Integer)
    compliant: Mapped[int] = mapped_column(Integer)
    hours_missing: Mapped[float] = mapped_column(Float)
    #: −hours_missing: the 未达标名单's order as the index's ascending order.
    behind_order: Mapped[float] = mapped_column(Float)


class SchoolMonthly(Base):
    """学时 first completed in one month (Beijing time) by one 教研组 of one school."""

    __tablename__ = "school_monthly"
    __table_args__ = (_school_key("school_monthly"),)

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = _region()
    basis: Mapped[str] = mapped_column(String(16), primary_key=True)
    research_group: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    hours: Mapped[float] = mapped_column(Float)
    practice_hours: Mapped[float] = mapped_column(Float)
    active_teachers: Mapped[int] = mapped_column(Integer)
    completions: Mapped[int] = mapped_column(Integer)


class TeacherMastery(Base):
    """A teacher's diagnosed mastery (JSON list in framework order), per model version and day."""

    __tablename__ = "teacher_mastery"
    __table_args__ = (_school_key("teacher_mastery"),)

    teacher_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(32), index=True)
    #: The partition key on PostgreSQL, hence in the primary key (a teacher has one region).
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    diagnosed_on: Mapped[str] = mapped_column(String(10))
    mastery: Mapped[str] = mapped_column(Text)


class MasteryDirty(Base):
    """Schools whose stored mastery is stale (triggers on teachers, events, grades, responses)."""

    __tablename__ = "mastery_dirty"
    __table_args__ = (_school_key("mastery_dirty"),)

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = _region()


class SchoolPairingSummary(Base):
    """What 结对帮扶 needs of one school under one model version (written with its mastery)."""

    __tablename__ = "school_pairing_summary"
    __table_args__ = (
        Index("ix_school_pairing_summary_region", "region", "model_version"),
        _school_key("school_pairing_summary"),
    )

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = _region()
    n_teachers: Mapped[int] = mapped_column(Integer)
    #: JSON list in framework order: mean mastery of the school's teachers, ``null`` where none
    #: has a value.
    means: Mapped[str] = mapped_column(Text)
    #: JSON list in framework order of up to three ``[teacher_id, 教研组, mastery]``, best first.
    mentors: Mapped[str] = mapped_column(Text)
    #: New on every rewrite: the region's pairing result is keyed by its schools' stamps.
    stamp: Mapped[str] = mapped_column(String(32))


class RegionPairing(Base):
    """A region's last pairing result (as the API sends it) and the hash of its inputs."""

    __tablename__ = "region_pairing"

    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    input_key: Mapped[str] = mapped_column(String(64))
    pairs: Mapped[str] = mapped_column(Text)
    mentors: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
