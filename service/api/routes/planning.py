"""School and region views: 一校一策 plan, digital portrait, regional progress."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Path

from competency_model.errors import InfeasibleError
from recommender.bundle import ModelBundle
from recommender.school_planning import attach_teachers, mastery_matrix, plan_school
from recommender.school_planning.pairing import mentor_teachers, pair_schools
from recommender.school_planning.portrait import build_portrait
from service.api.cohort import Cohort, load_cohort, local_now
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.routes.teacher_models import PolicyQuery, policy_for
from service.api.schemas.common import ID_PATTERN
from service.api.scope import visible_region, visible_school
from service.api.state import ServiceState
from service.audit import record_read
from service.db.region_progress import region_progress

router = APIRouter(prefix="/v1", tags=["schools & regions"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])
REGION = Path(min_length=1, max_length=64, examples=["江苏"])


def _teacher_mastery(state: ServiceState, models: ModelBundle, cohort: Cohort) -> pd.DataFrame:
    if cohort.teachers.empty:
        raise InfeasibleError(
            "no teachers are registered here yet; PUT teachers or import them first"
        )
    diagnosis = models.diagnosis.diagnose(cohort, as_of=local_now())
    return attach_teachers(mastery_matrix(diagnosis, state.framework.codes), cohort.teachers)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict("records")]


@router.get("/schools/{school_id}/plan")
def get_school_plan(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    school_id: str = SCHOOL_ID,
    policy: PolicyQuery = None,
) -> dict[str, Any]:
    """The school's 一校一策 proposal: target points, courses, 校本研修 activities per 教研组."""
    school = visible_school(session, principal, school_id)
    chosen = policy_for(school.region, policy)
    models = state.registry.require()
    cohort = load_cohort(session, school_id=school_id)
    teacher_mastery = _teacher_mastery(state, models, cohort)
    plan = plan_school(
        school_id,
        cohort.schools,
        teacher_mastery,
        chosen,
        state.catalog,
        state.framework,
        graph=state.graph,
    )
    record_read(
        session,
        principal,
        "school_plan",
        school_id=school_id,
        detail=f"teachers={len(teacher_mastery)}",
    )
    return {**plan.to_dict(), "model_version": models.version}


@router.get("/schools/{school_id}/portrait")
def get_school_portrait(
    session: SessionDep, state: StateDep, principal: CurrentKey, school_id: str = SCHOOL_ID
) -> dict[str, Any]:
    """Aggregate mastery of the school: heatmap by 教研组, distribution, gaps (no individual rows)."""
    visible_school(session, principal, school_id)
    models = state.registry.require()
    cohort = load_cohort(session, school_id=school_id)
    teacher_mastery = _teacher_mastery(state, models, cohort)
    portrait = build_portrait(
        "school", school_id, teacher_mastery, cohort.schools, state.framework.codes
    )
    record_read(
        session,
        principal,
        "school_portrait",
        school_id=school_id,
        detail=f"teachers={len(teacher_mastery)}",
    )
    return {**portrait.to_dict(), "model_version": models.version}


@router.get("/regions/{region}/progress")
def get_region_progress(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    region: str = REGION,
    policy: PolicyQuery = None,
) -> dict[str, Any]:
    """Hours completed against the policy, assessment results per point, rollout by batch
    (summed from per-school aggregates in the database)."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    figures = region_progress(session, region, state.catalog, chosen, state.framework.codes)
    record_read(session, principal, "region_progress", detail=f"region={region}")
    return {
        "region": region,
        "policy": chosen.name,
        "n_schools": figures.n_schools,
        "n_teachers": figures.n_teachers,
        "teachers_started": figures.teachers_started,
        "teachers_compliant": figures.teachers_compliant,
        "compliant_share": figures.compliant_share,
        "mean_hours": figures.mean_hours,
        "mean_practice_hours": figures.mean_practice_hours,
        "assessments": _records(figures.assessments.reset_index()),
        "rollout": _records(figures.rollout),
    }


def _region_pairing(state: ServiceState, session: SessionDep, region: str) -> tuple[Any, Any]:
    """Pairs and mentors for every school of ``region`` (pairing needs the whole region)."""
    models = state.registry.require()
    cohort = load_cohort(session, region=region)
    teacher_mastery = _teacher_mastery(state, models, cohort)
    pairs = pair_schools(teacher_mastery, cohort.schools, state.framework)
    mentors = mentor_teachers(pairs, teacher_mastery)
    return pairs, mentors


@router.get("/regions/{region}/pairing")
def get_region_pairing(
    session: SessionDep, state: StateDep, principal: CurrentKey, region: str = REGION
) -> dict[str, Any]:
    """结对帮扶 for a region: weak schools, complementary partners, focus points and mentors."""
    visible_region(session, principal, region)
    pairs, mentors = _region_pairing(state, session, region)
    record_read(session, principal, "region_pairing", detail=f"region={region}")
    return {"region": region, "pairs": _records(pairs), "mentors": _records(mentors)}


@router.get("/schools/{school_id}/pairing")
def get_school_pairing(
    session: SessionDep, state: StateDep, principal: CurrentKey, school_id: str = SCHOOL_ID
) -> dict[str, Any]:
    """The pairs this school takes part in, as the weak school or as the partner.

    Mentor teacher ids are shown only for the caller's own staff: a weak school learns which
    教研组 and point its mentor covers, not another school's teacher ids.
    """
    school = visible_school(session, principal, school_id)
    pairs, mentors = _region_pairing(state, session, school.region)
    involved = (pairs["weak_school"] == school_id) | (pairs["partner_school"] == school_id)
    mine = mentors.loc[
        (mentors["weak_school"] == school_id) | (mentors["partner_school"] == school_id)
    ].copy()
    foreign = mine["partner_school"] != school_id
    mine["mentor_teacher_id"] = mine["mentor_teacher_id"].where(~foreign, None)
    record_read(session, principal, "school_pairing", school_id=school_id)
    return {
        "school_id": school_id,
        "pairs": _records(pairs.loc[involved]),
        "mentors": _records(mine),
    }
