"""Region → city → district → school progress computed by the database, not in Python.

A provincial office drills down from the province to a school. Loading a region's events into
memory per request cannot answer at a million teachers, so the figures are one SQL statement:
each teacher's distinct completed items joined with the catalog's hours (sent as a ``VALUES``
common table expression: the catalog lives in the service, not in the database), summed per teacher, checked
against the policy's hour rules, then counted per city, district or school. The arithmetic is
the same as :func:`recommender.school_planning.progress.compliance` (tested for parity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Float, Integer, String, and_, case, column, distinct, func, select, values
from sqlalchemy.orm import Session

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from service.db.models import Event, School, Teacher

__all__ = ["LEVELS", "BreakdownRow", "region_breakdown"]

Level = Literal["city", "district", "school"]
LEVELS: tuple[Level, ...] = ("city", "district", "school")
#: Shown for a school without a city or district, so its teachers are counted, not dropped.
UNKNOWN = "（未填写）"
_TOLERANCE = 1e-9


@dataclass(frozen=True)
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

    @property
    def compliant_share(self) -> float:
        """Share of the unit's teachers meeting every hour rule."""
        return self.n_compliant / self.n_teachers if self.n_teachers else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, the share included."""
        return {**self.__dict__, "compliant_share": self.compliant_share}


def _catalog_table(catalog: Catalog, policy: Policy) -> Any:
    rows = [
        (
            item.item_id,
            float(item.hours),
            int(item.kind in policy.practice_kinds),
            int(item.kind in policy.online_kinds),
        )
        for item in catalog
    ]
    return (
        values(
            column("item_id", String),
            column("hours", Float),
            column("practice", Integer),
            column("online", Integer),
            name="catalog_hours",
        )
        .data(rows)
        .cte("catalog_hours")
    )  # WITH … AS (VALUES …): SQLite has no aliased VALUES


def region_breakdown(
    session: Session,
    region: str,
    level: Level,
    catalog: Catalog,
    policy: Policy,
    *,
    city: str | None = None,
    district: str | None = None,
) -> list[BreakdownRow]:
    """Progress per ``level`` unit of ``region`` (optionally inside one city or district).

    Parameters
    ----------
    session
        A database session (SQLite or PostgreSQL).
    region, city, district
        The area to break down; ``city``/``district`` narrow it (``UNKNOWN`` selects schools
        without one).
    level
        ``city``, ``district`` or ``school``.
    catalog, policy
        Hours and kinds of the items; the hour rules a teacher is checked against.
    """
    catalog_hours = _catalog_table(catalog, policy)
    city_of = func.coalesce(School.city, UNKNOWN)
    district_of = func.coalesce(School.district, UNKNOWN)
    where = [School.region == region]
    if city is not None:
        where.append(city_of == city)
    if district is not None:
        where.append(district_of == district)
    completed = (
        select(Event.teacher_id, Event.item_id)
        .where(Event.event == "complete")
        .distinct()
        .subquery("completed")
    )
    enrolled = (
        select(Event.teacher_id).where(Event.event == "enrol").distinct().subquery("enrolled")
    )
    per_teacher = (
        select(
            Teacher.teacher_id,
            School.school_id,
            city_of.label("city"),
            district_of.label("district"),
            func.coalesce(func.sum(catalog_hours.c.hours), 0.0).label("hours"),
            func.coalesce(func.sum(catalog_hours.c.hours * catalog_hours.c.practice), 0.0).label(
                "practice_hours"
            ),
            func.coalesce(func.sum(catalog_hours.c.hours * catalog_hours.c.online), 0.0).label(
                "online_hours"
            ),
            func.max(case((enrolled.c.teacher_id.is_not(None), 1), else_=0)).label("started"),
        )
        .select_from(Teacher)
        .join(School, School.school_id == Teacher.school_id)
        .outerjoin(completed, completed.c.teacher_id == Teacher.teacher_id)
        .outerjoin(catalog_hours, catalog_hours.c.item_id == completed.c.item_id)
        .outerjoin(enrolled, enrolled.c.teacher_id == Teacher.teacher_id)
        .where(*where)
        .group_by(Teacher.teacher_id, School.school_id, city_of, district_of)
        .subquery("per_teacher")
    )
    hours, practice = per_teacher.c.hours, per_teacher.c.practice_hours
    share = case((hours > 0, practice / hours), else_=0.0)
    compliant = case(
        (
            and_(
                hours + _TOLERANCE >= policy.total_hours,
                practice + _TOLERANCE >= policy.min_practice_hours,
                share + _TOLERANCE >= policy.min_practice_share,
                per_teacher.c.online_hours + _TOLERANCE >= policy.min_online_hours,
            ),
            1,
        ),
        else_=0,
    )
    keys = {
        "city": [per_teacher.c.city],
        "district": [per_teacher.c.city, per_teacher.c.district],
        "school": [per_teacher.c.city, per_teacher.c.district, per_teacher.c.school_id],
    }[level]
    query = (
        select(
            *keys,
            func.count(distinct(per_teacher.c.school_id)),
            func.count(),
            func.sum(per_teacher.c.started),
            func.sum(compliant),
            func.avg(hours),
            func.avg(practice),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    rows = []
    for record in session.execute(query).all():
        named = list(record[: len(keys)]) + [None] * (3 - len(keys))
        n_schools, n_teachers, started, n_compliant, mean_hours, mean_practice = record[len(keys) :]
        rows.append(
            BreakdownRow(
                city=str(named[0]),
                district=None if named[1] is None else str(named[1]),
                school_id=None if named[2] is None else str(named[2]),
                n_schools=int(n_schools),
                n_teachers=int(n_teachers),
                teachers_started=int(started or 0),
                n_compliant=int(n_compliant or 0),
                mean_hours=float(mean_hours or 0.0),
                mean_practice_hours=float(mean_practice or 0.0),
            )
        )
    return rows
