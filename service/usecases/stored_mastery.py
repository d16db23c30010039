"""Mastery of a school's or a region's teachers from the stored diagnoses.

A portrait, a 一校一策 plan or the region's pairing needs every teacher's mastery; diagnosing
them per request cost seconds (a region: tens of seconds). Here the stored rows
(:mod:`service.db.stores.mastery_store`) are used where they are fresh — same model version,
school not marked changed since — and only the stale schools are diagnosed (in one
batch) and stored, so a repeat request reads rows and the cost of a change is one school's
diagnosis.
"""

from __future__ import annotations

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

__all__ = ["stored_mastery"]


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
    now = local_now()
    day = now.strftime("%Y-%m-%d")
    codes = list(state.framework.codes)
    stale = stale_schools(session, region, scope, models.version)
    if stale:
        cohort = load_cohort(session, school_ids=stale)
        if not cohort.teachers.empty:
            diagnosis = models.diagnosis.diagnose(cohort, as_of=now)
            fresh = attach_teachers(mastery_matrix(diagnosis, codes), cohort.teachers)
            write_mastery(session, region, stale, fresh, codes, models.version, day)
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
