"""Stored per-teacher mastery: what portraits, school plans and pairing read instead of
diagnosing a school or a region on every request.

A row holds one teacher's mastery per framework point (a JSON list in framework order, ``null``
where the model has none), the model version that diagnosed it and the Beijing day it was
diagnosed on. A row stays in use until the model version changes or its school is marked:
triggers (migration 0009) mark a school in ``mastery_dirty`` whenever its teachers, events,
grades or questionnaire answers change, and such a school's rows are replaced at its next read. The same write replaces the schools'
pairing summaries (:mod:`service.db.stores.pairing_store`), from the same numbers.
(The diagnosis also weighs evidence by its age; for an unchanged teacher that drift is slow,
and re-diagnosing a province every midnight would put its whole cost on the first readers.)

Every function takes the region of the schools it reads or writes: ``teacher_mastery`` is
partitioned by region on PostgreSQL (migration 0011), and the per-teacher freshness check would
otherwise probe every region's partition once per teacher.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from service.db.aggregate_statistics import analyze_aggregates
from service.db.bulk import upsert_rows
from service.db.models import School, Teacher
from service.db.scale_models import MasteryDirty, TeacherMastery
from service.db.stores.pairing_store import write_summaries

__all__ = ["read_mastery", "stale_schools", "write_mastery"]


def stale_schools(session: Session, region: str, scope: Any, model_version: str) -> list[str]:
    """The schools of ``region`` in ``scope`` (a condition on :class:`School`) marked dirty or
    with a teacher lacking a row of ``model_version``."""
    fresh = exists().where(
        TeacherMastery.region == region,
        TeacherMastery.teacher_id == Teacher.teacher_id,
        TeacherMastery.model_version == model_version,
    )
    missing = (
        select(Teacher.school_id)
        .join(School, School.school_id == Teacher.school_id)
        .where(Teacher.region == region, School.region == region, scope, ~fresh)
        .distinct()
    )
    dirty = (
        select(MasteryDirty.school_id)
        .join(School, School.school_id == MasteryDirty.school_id)
        .where(MasteryDirty.region == region, scope)
    )
    stale = set(session.scalars(missing)) | set(session.scalars(dirty))
    return sorted(stale)


def write_mastery(
    session: Session,
    region: str,
    school_ids: Sequence[str],
    mastery: pd.DataFrame,
    codes: Sequence[str],
    model_version: str,
    day: str,
) -> None:
    """Replace the stored rows of ``school_ids``' teachers (schools of ``region``) with
    ``mastery`` (index ``teacher_id``, columns ``codes`` plus ``school_id``, optionally
    ``research_group``; every teacher of those schools) and the schools' pairing summaries
    (:mod:`service.db.stores.pairing_store`), and clear their dirty marks."""
    session.execute(
        delete(MasteryDirty).where(
            MasteryDirty.region == region, MasteryDirty.school_id.in_(school_ids)
        )
    )
    teachers = select(Teacher.teacher_id).where(Teacher.school_id.in_(school_ids))
    session.execute(
        delete(TeacherMastery).where(
            TeacherMastery.region == region,
            TeacherMastery.teacher_id.in_(teachers) | TeacherMastery.school_id.in_(school_ids),
        )
    )
    values = mastery[list(codes)].to_numpy(dtype=float)
    # Rounded once: the stored rows and the pairing summaries hold the very same numbers.
    rounded = [[None if math.isnan(v) else round(v, 6) for v in row] for row in values]
    rows = [
        {
            "teacher_id": str(teacher),
            "school_id": str(school),
            "region": region,
            "model_version": model_version,
            "diagnosed_on": day,
            "mastery": json.dumps(row),
        }
        for teacher, school, row in zip(mastery.index, mastery["school_id"], rounded, strict=True)
    ]
    if rows:
        # Two first reads of a changed school may diagnose it at once: the later one wins
        # (same model, same evidence) instead of failing on the first one's key.
        upsert_rows(session, TeacherMastery.__table__, rows, ["teacher_id", "region"])
        # The next reads of the region plan with its partition's statistics (PostgreSQL).
        analyze_aggregates(session, region, ["teacher_mastery"])
    stored = mastery.copy()
    stored[list(codes)] = np.array(
        [[math.nan if v is None else v for v in row] for row in rounded], dtype=float
    ).reshape(len(mastery), len(codes))
    write_summaries(session, region, school_ids, stored, codes, model_version)


def read_mastery(
    session: Session, region: str, scope: Any, codes: Sequence[str], model_version: str
) -> pd.DataFrame:
    """Teacher × point mastery of the current teachers of the schools of ``region`` in
    ``scope``."""
    rows = session.execute(
        select(TeacherMastery.teacher_id, TeacherMastery.mastery)
        .join(Teacher, Teacher.teacher_id == TeacherMastery.teacher_id)
        .join(School, School.school_id == Teacher.school_id)
        .where(
            TeacherMastery.region == region,
            scope,
            TeacherMastery.model_version == model_version,
        )
        .order_by(TeacherMastery.teacher_id)
    ).all()
    matrix = pd.DataFrame(
        [[math.nan if v is None else v for v in json.loads(m)] for _, m in rows],
        index=pd.Index([str(t) for t, _ in rows], name="teacher_id"),
        columns=list(codes),
        dtype=float,
    )
    return matrix
