"""Regions in the storage: partitions made on demand, teachers following their school's region.

On PostgreSQL ``events``, ``grades``, ``responses``, ``recommendation_lists`` and the
per-teacher aggregates ``teacher_progress`` and ``teacher_mastery`` are partitioned by region
(migrations 0007, 0008, 0011). A region's partitions are made, trigger-free, by
:func:`ensure_region_partitions`, which every store that writes a school calls before the
school's rows exist (``store_tables``, ``PUT /v1/schools``) and the list loader calls before a
load; a row of a region without partitions would land in the default partition, which the same
function empties into the new partitions. The DDL runs on a connection of its own and commits at
once: a partition is empty storage, and holding ``CREATE TABLE … PARTITION OF``'s lock on the
parent until a long import commits would stall every reader of the table.

On both backends the region of a teacher's rows is the region of the teacher's school:
:func:`follow_school_regions` rewrites ``teachers.region`` after schools were written, and the
``(region, teacher_id)`` foreign keys (``ON UPDATE CASCADE``) carry the change to the teacher's
answers, grades and events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from service.db.models import School, Teacher

__all__ = [
    "PARTITIONED_TABLES",
    "ensure_region_partitions",
    "follow_school_regions",
    "partition_name",
]

#: Every table partitioned by region on PostgreSQL.
PARTITIONED_TABLES = (
    "events",
    "grades",
    "responses",
    "recommendation_lists",
    "teacher_progress",
    "teacher_mastery",
)
#: How long the partition DDL waits for readers of the parent table before giving up.
LOCK_TIMEOUT = "10s"


def partition_name(table: str, region: str) -> str:
    """``region``'s partition of ``table`` (a hash: region names are Chinese).

    The same name as the database function ``nengli_region_partitions`` computes.
    """
    return f"{table}_r" + hashlib.sha256(region.encode("utf-8")).hexdigest()[:12]


def ensure_region_partitions(session: Session, regions: Iterable[str]) -> int:
    """Make the partitions of each of ``regions`` that are missing (PostgreSQL; no-op on SQLite).

    Returns the number of regions missing one or more. Runs as the schema owner through the
    ``SECURITY DEFINER`` function of migrations 0008/0011, so the API role may call it (and gets
    no privilege on the partitions it makes: the role reaches them through their parents only).
    """
    wanted = sorted(set(regions))
    engine = session.get_bind().engine  # also when the session is bound to a connection
    if not wanted or engine.dialect.name != "postgresql":
        return 0
    probe = text(
        "SELECT bool_or(to_regclass(name) IS NULL) FROM unnest(CAST(:names AS text[])) AS name"
    )
    missing = [
        region
        for region in wanted
        if session.scalar(
            probe, {"names": [partition_name(table, region) for table in PARTITIONED_TABLES]}
        )
    ]
    if not missing:
        return 0
    with engine.connect() as connection:
        connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
        for region in missing:
            connection.execute(text("SELECT nengli_region_partitions(:r)"), {"r": region})
        connection.commit()
    return len(missing)


def follow_school_regions(session: Session, school_ids: Iterable[str]) -> None:
    """Give the teachers of ``school_ids`` their school's region (after the schools were written).

    Only teachers whose region differs are touched; their answers, grades and events follow
    through the ``ON UPDATE CASCADE`` foreign keys (on PostgreSQL into the new region's
    partitions).
    """
    ids = sorted(set(school_ids))
    school_region = (
        select(School.region).where(School.school_id == Teacher.school_id).scalar_subquery()
    )
    statement = (
        update(Teacher)
        .where(Teacher.school_id.in_(bindparam("ids", expanding=True)))
        .where(Teacher.region != school_region)
        .values(region=school_region)
        .execution_options(synchronize_session=False)
    )
    for start in range(0, len(ids), 500):
        session.execute(statement, {"ids": ids[start : start + 500]})
