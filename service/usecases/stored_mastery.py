"""Mastery of a school's or a region's teachers from the stored diagnoses.

A portrait, a 一校一策 plan or the region's pairing needs every teacher's mastery; diagnosing
them per request cost seconds (a region: tens of seconds). Here the stored rows
(:mod:`service.db.stores.mastery_store`) are used where they are fresh — same model version,
school not marked changed since — and only the stale schools are diagnosed (in one
batch) and stored, so a repeat request reads rows and the cost of a change is one school's
diagnosis. The region's pairing shares the diagnosing part (:func:`refresh_mastery`) but reads
per-school summaries, not the teachers (:func:`service.usecases.planning.region_pairing`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from competency_model.errors import InfeasibleError
from recommender.bundle import ModelBundle
from recommender.school_planning import attach_teachers, mastery_matrix
from service.db.models import School, Teacher
from service.db.stores.cohort import SCHOOL_COLUMNS, load_cohort, local_now
from service.db.stores.mastery_store import read_mastery, stale_schools, write_mastery
from service.state import ServiceState

__all__ = ["refresh_mastery", "stored_mastery"]


def refresh_mastery(
    session: Session,
    state: ServiceState,
    models: ModelBundle,
    region: str,
    stale: Sequence[str],
) -> None:
    """Diagnose every teacher of the ``stale`` schools of ``region`` in one batch and store
    their mastery and the schools' pairing summaries (the caller commits); a stale school
    without teachers gets its marks cleared and an empty summary."""
    if not stale:
        return
    now = local_now()
    codes = list(state.framework.codes)
    cohort = load_cohort(session, school_ids=list(stale))
    if cohort.teachers.empty:
        fresh = pd.DataFrame(columns=["school_id", "research_group", *codes])
    else:
        diagnosis = models.diagnosis.diagnose(cohort, as_of=now)
        fresh = attach_teachers(mastery_matrix(diagnosis, codes), cohort.teachers)
    write_mastery(
        session, region, list(stale), fresh, codes, models.version, now.strftime("%Y-%m-%d")
    )


def stored_mastery(
    session: Session,
    state: ServiceState,
    models: ModelBundle,
    *,
    region: str,
    school_id: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mastery (teachers × points, with ``school_id``, 教研组, stage, subject) and the schools
    table of a region or of one of its schools; stale schools are diagnosed and stored first
    (the caller commits). ``region`` is the school's when ``school_id`` is given: the stored
    rows are read by region (their partition key on PostgreSQL)."""
    scope = (
        and_(School.region == region, School.school_id == school_id)
        if school_id is not None
        else School.region == region
    )
    codes = list(state.framework.codes)
    refresh_mastery(
        session, state, models, region, stale_schools(session, region, scope, models.version)
    )
    columns = ["teacher_id", "school_id", "research_group", "stage", "subject"]
    teachers = pd.DataFrame(
        session.execute(
            select(*[getattr(Teacher, c) for c in columns])
            .join(School, School.school_id == Teacher.school_id)
            .where(scope)
            .order_by(Teacher.teacher_id)
        ).all(),
        columns=columns,
    )
    if teachers.empty:
        raise InfeasibleError(
            "no teachers are registered here yet; PUT teachers or import them first"
        )
    teachers["research_group"] = teachers["research_group"].fillna("")
    schools = pd.DataFrame(
        session.execute(select(*[getattr(School, c) for c in SCHOOL_COLUMNS]).where(scope)).all(),
        columns=SCHOOL_COLUMNS,
    )
    matrix = read_mastery(session, region, scope, codes, models.version)
    return attach_teachers(matrix, teachers), schools
