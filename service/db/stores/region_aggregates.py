"""Region → city → district → school progress computed by the database, not in Python.

A provincial office drills down from the province to a school. Loading a region's events into
memory per request cannot answer at a million teachers, so the figures are sums over the
per-school aggregates of :mod:`service.db.progress_summary` (refreshed first where a school's
rows changed), grouped per city, district or school. The arithmetic is the same as
:func:`recommender.school_planning.progress.compliance` (tested for parity).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from service.db.models import School
from service.db.progress_summary import refresh_region
from service.db.scale_models import SchoolProgress

__all__ = ["LEVELS", "BatchSums", "BreakdownRow", "batch_sums", "region_breakdown"]

Level = Literal["city", "district", "school"]
LEVELS: tuple[Level, ...] = ("city", "district", "school")
#: Shown for a school without a city or district, so its teachers are counted, not dropped.
UNKNOWN = "（未填写）"


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """Progress of one city, district or school of a region."""

    city: str
    district: str | None
    school_id: str | None
    n_schools: int
    n_teachers: int
    teachers_started: int
    n_compliant: int
    mean_hours: float
    mean_practice_hours: float
    #: Teachers whose cycle ended short of the hour rules (Chongqing §三(一)).
    n_cycle_ended_short: int = 0

    @property
    def compliant_share(self) -> float:
        """Share of the unit's teachers meeting every hour rule."""
        return self.n_compliant / self.n_teachers if self.n_teachers else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, the share included."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        return {**fields, "compliant_share": self.compliant_share}


@dataclass(frozen=True)
class BatchSums:
    """Sums over the schools of one rollout batch (整校推进 批次) of an area."""

    n_schools: int
    n_teachers: int
    teachers_started: int
    n_compliant: int
    sum_hours: float


def _area_conditions(region: str, city: str | None, district: str | None) -> list[Any]:
    where = [School.region == region, SchoolProgress.n_teachers > 0]
    if city is not None:
        where.append(func.coalesce(School.city, UNKNOWN) == city)
    if district is not None:
        where.append(func.coalesce(School.district, UNKNOWN) == district)
    return where


def batch_sums(
    session: Session,
    region: str,
    catalog: Catalog,
    policy: Policy,
    *,
    city: str | None = None,
    district: str | None = None,
) -> dict[int | None, BatchSums]:
    """Per rollout batch of ``region`` (optionally one city or district): the same sums as
    :func:`region_breakdown` per school, added up per batch by the database — a handful of
    rows instead of every school of the area (10,000 at a million teachers)."""
    basis = refresh_region(session, region, catalog, policy)
    query = (
        select(
            School.rollout_batch,
            func.count(),
            func.sum(SchoolProgress.n_teachers),
            func.sum(SchoolProgress.n_started),
            func.sum(SchoolProgress.n_compliant),
            func.sum(SchoolProgress.sum_hours),
        )
        .join(SchoolProgress, SchoolProgress.school_id == School.school_id)
        .where(SchoolProgress.basis == basis, *_area_conditions(region, city, district))
        .group_by(School.rollout_batch)
    )
    return {
        None if batch is None else int(batch): BatchSums(
            n_schools=int(schools),
            n_teachers=int(teachers),
            teachers_started=int(started or 0),
            n_compliant=int(compliant or 0),
            sum_hours=float(hours or 0.0),
        )
        for batch, schools, teachers, started, compliant, hours in session.connection()
        .execute(query)
        .all()
    }


def region_breakdown(
    session: Session,
    region: str,
    level: Level,
    catalog: Catalog,
    policy: Policy,
    *,
    city: str | None = None,
    district: str | None = None,
    cycle_ended_batches: Collection[int] = (),
) -> list[BreakdownRow]:
    """Progress per ``level`` unit of ``region`` (optionally inside one city or district).

    Parameters
    ----------
    session
        A database session (SQLite or PostgreSQL); the stale schools' aggregates are refreshed
        in it (the caller commits).
    region, city, district
        The area to break down; ``city``/``district`` narrow it (``UNKNOWN`` selects schools
        without one).
    level
        ``city``, ``district`` or ``school``.
    catalog, policy
        Hours and kinds of the items; the hour rules a teacher is checked against.
    cycle_ended_batches
        Rollout batches whose cycle has ended: their non-compliant teachers ended it short.
    """
    basis = refresh_region(session, region, catalog, policy)
    city_of = func.coalesce(School.city, UNKNOWN).label("city")
    district_of = func.coalesce(School.district, UNKNOWN).label("district")
    where = _area_conditions(region, city, district)
    by_level: dict[str, list[Any]] = {
        "city": [city_of],
        "district": [city_of, district_of],
        "school": [city_of, district_of, School.school_id],
    }
    keys = by_level[level]
    teachers = func.sum(SchoolProgress.n_teachers)
    query = (
        select(
            *keys,
            func.count(),
            teachers,
            func.sum(SchoolProgress.n_started),
            func.sum(SchoolProgress.n_compliant),
            func.sum(SchoolProgress.sum_hours),
            func.sum(SchoolProgress.sum_practice_hours),
            func.sum(
                case(
                    (
                        School.rollout_batch.in_(sorted(cycle_ended_batches)),
                        SchoolProgress.n_teachers - SchoolProgress.n_compliant,
                    ),
                    else_=0,
                )
            ),
        )
        .join(SchoolProgress, SchoolProgress.school_id == School.school_id)
        .where(SchoolProgress.basis == basis, *where)
        .group_by(*keys)
        .order_by(*keys)
    )
    rows = []
    for record in session.connection().execute(query).all():
        named = list(record[: len(keys)]) + [None] * (3 - len(keys))
        n_schools, n_teachers, started, n_compliant, hours, practice, short = record[len(keys) :]
        rows.append(
            BreakdownRow(
                city=str(named[0]),
                district=None if named[1] is None else str(named[1]),
                school_id=None if named[2] is None else str(named[2]),
                n_schools=int(n_schools),
                n_teachers=int(n_teachers),
                teachers_started=int(started or 0),
                n_compliant=int(n_compliant or 0),
                mean_hours=float(hours or 0.0) / int(n_teachers),
                mean_practice_hours=float(practice or 0.0) / int(n_teachers),
                n_cycle_ended_short=int(short or 0),
            )
        )
    return rows
