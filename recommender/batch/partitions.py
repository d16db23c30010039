"""Cutting a country into batch partitions: a province each, a city each for very large ones.

A partition is the unit that trains one model: its teachers share schools, 教研组 and a policy,
so a province is the natural cut. A province above ``max_teachers`` is cut by city instead, so
that no single partition outgrows one worker's memory; a city is never cut further (a model
needs a school's colleagues together).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from competency_model.errors import DatasetError
from competency_model.province import Province

__all__ = ["Partition", "partition_province", "plan_partitions"]


@dataclass(frozen=True)
class Partition:
    """One batch partition: a region, or one city of it.

    Attributes
    ----------
    key
        Directory-safe, unique name (``江苏`` or ``江苏-南京``).
    region, city
        What it covers; ``city`` is ``None`` for a whole region.
    teachers
        How many teachers it holds (for scheduling and the report).
    """

    key: str
    region: str
    city: str | None
    teachers: int


def _safe(text: str) -> str:
    return re.sub(r"[^\w\-]+", "_", text).strip("_") or "_"


def plan_partitions(
    schools: pd.DataFrame, teachers: pd.DataFrame, max_teachers: int | None = None
) -> list[Partition]:
    """The partitions of the schools' regions, largest first (so a cluster finishes sooner).

    Raises
    ------
    DatasetError
        A school without a region, or no teachers at all.
    """
    if teachers.empty:
        raise DatasetError("the province has no teachers; nothing to partition")
    missing = schools["region"].isna() | (schools["region"].astype(str).str.strip() == "")
    if missing.any():
        bad = schools.loc[missing, "school_id"].iloc[0]
        raise DatasetError(
            f"schools row school_id={bad!r}: field 'region' is empty; every school needs a region "
            "to be assigned to a batch partition",
            details={"school_id": str(bad), "field": "region"},
        )
    per_school = teachers["school_id"].astype(str).value_counts()
    table = schools.assign(
        school_id=schools["school_id"].astype(str),
        n=lambda f: f["school_id"].map(per_school).fillna(0).astype(int),
    )
    partitions: list[Partition] = []
    for region, group in table.groupby("region", sort=True):
        total = int(group["n"].sum())
        if total == 0:
            continue
        if max_teachers is None or total <= max_teachers:
            partitions.append(Partition(_safe(str(region)), str(region), None, total))
            continue
        for city, part in group.groupby(group["city"].fillna("").astype(str), sort=True):
            count = int(part["n"].sum())
            if count:
                key = f"{_safe(str(region))}-{_safe(city)}"
                partitions.append(Partition(key, str(region), city, count))
    keys = [p.key for p in partitions]
    if len(set(keys)) != len(keys):
        raise DatasetError(f"region/city names collide after making them file names: {keys}")
    return sorted(partitions, key=lambda p: (-p.teachers, p.key))


def partition_province(province: Province, partition: Partition) -> Province:
    """The tables of ``partition`` only: its schools, their teachers and those teachers' rows."""
    schools = province.schools
    mask = schools["region"].astype(str) == partition.region
    if partition.city is not None:
        mask &= schools["city"].fillna("").astype(str) == partition.city
    part_schools = schools[mask].reset_index(drop=True)
    school_ids = set(part_schools["school_id"].astype(str))
    teachers = province.teachers[province.teachers["school_id"].astype(str).isin(school_ids)]
    teacher_ids = set(teachers["teacher_id"].astype(str))

    def of_teachers(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["teacher_id"].astype(str).isin(teacher_ids)].reset_index(drop=True)

    return Province(
        schools=part_schools,
        teachers=teachers.reset_index(drop=True),
        responses=of_teachers(province.responses),
        grades=of_teachers(province.grades),
        events=of_teachers(province.events),
    )
