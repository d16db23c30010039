"""Region progress and breakdown with the erased teachers' counters added back.

An erasure removes a teacher's rows but not what the programme achieved: a teacher who met
the hour rules and then asked to be erased still counts among the region's trained teachers.
The counters hold, per school and policy, the erased teachers, how many had started and met
the rules and their hours (per school, point and grade: their latest grades); these functions
add them to figures computed from the live rows, so the totals before and after an erasure
are equal (``tests/service/test_erasure.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import pandas as pd
from sqlalchemy.orm import Session

from service.db.stores.erased_aggregates import (
    ErasedCounts,
    erased_by_school,
)
from service.db.stores.region_aggregates import UNKNOWN, BreakdownRow, Level

__all__ = ["add_erased_to_breakdown", "erased_cycle_ended_short", "with_erased_grades"]


def with_erased_grades(
    assessments: pd.DataFrame, counts: dict[tuple[str, str], int]
) -> pd.DataFrame:
    """``assessment_summary`` output (index ``point``) with erased grade counts added."""
    if not counts:
        return assessments
    table = assessments.copy()
    for (point, grade), n in counts.items():
        if grade not in table.columns:
            continue
        if point not in table.index:
            table.loc[point] = 0
        table.loc[point, grade] += n
    grades = [c for c in ("优秀", "合格", "不合格") if c in table.columns]
    table["n_assessed"] = table[grades].sum(axis=1)
    assessed = table["n_assessed"].where(table["n_assessed"] > 0)
    table["pass_rate"] = ((table["优秀"] + table["合格"]) / assessed).fillna(0.0)
    table["excellent_rate"] = (table["优秀"] / assessed).fillna(0.0)
    return table


def erased_cycle_ended_short(part: ErasedCounts, cycle_ended_batches: Collection[int]) -> int:
    """Erased teachers of ``part``'s school who ended their cycle short (not compliant)."""
    if part.rollout_batch is None or part.rollout_batch not in cycle_ended_batches:
        return 0
    return part.teachers - part.compliant


def _unit_key(part: ErasedCounts, level: Level) -> tuple[str, str | None, str | None]:
    city = part.city if part.city is not None else UNKNOWN
    district = part.district if part.district is not None else UNKNOWN
    if level == "city":
        return (city, None, None)
    if level == "district":
        return (city, district, None)
    return (city, district, part.school_id)


def add_erased_to_breakdown(
    session: Session,
    region: str,
    policy: str,
    level: Level,
    rows: list[BreakdownRow],
    *,
    city: str | None = None,
    district: str | None = None,
    cycle_ended_batches: Collection[int] = (),
) -> list[BreakdownRow]:
    """``region_breakdown`` rows with the erased teachers of each unit added back (those of a
    school in ``cycle_ended_batches`` who were not compliant ended their cycle short)."""
    erased = [
        part
        for part in erased_by_school(session, region, policy)
        if (city is None or _unit_key(part, "city")[0] == city)
        and (district is None or _unit_key(part, "district")[1] == district)
    ]
    if not erased:
        return rows
    units = {(row.city, row.district, row.school_id): row for row in rows}
    for part in erased:
        key = _unit_key(part, level)
        row = units.get(key) or BreakdownRow(
            city=key[0],
            district=key[1],
            school_id=key[2],
            n_schools=0,
            n_teachers=0,
            teachers_started=0,
            n_compliant=0,
            mean_hours=0.0,
            mean_practice_hours=0.0,
        )
        n = row.n_teachers + part.teachers
        units[key] = replace(
            row,
            n_schools=row.n_schools + (0 if part.has_live_teachers else 1),
            n_teachers=n,
            teachers_started=row.teachers_started + part.started,
            n_compliant=row.n_compliant + part.compliant,
            mean_hours=(row.mean_hours * row.n_teachers + part.hours_sum) / n,
            mean_practice_hours=(row.mean_practice_hours * row.n_teachers + part.practice_hours_sum)
            / n,
            n_cycle_ended_short=row.n_cycle_ended_short
            + erased_cycle_ended_short(part, cycle_ended_batches),
        )
    return list(units.values())  # the database's order, units only erased teachers had last
