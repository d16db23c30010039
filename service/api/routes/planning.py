"""School and region views: 一校一策 plan, digital portrait, regional progress."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Path, Response

from recommender.school_planning import plan_school
from recommender.school_planning.portrait import build_portrait
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.routes.teacher_models import PolicyQuery
from service.api.schemas.common import ID_PATTERN
from service.audit import record_read
from service.db.stores.scope import visible_region, visible_school
from service.usecases.planning import region_pairing, region_progress
from service.usecases.stored_mastery import stored_mastery
from service.usecases.teacher_models import policy_for

router = APIRouter(prefix="/v1", tags=["schools & regions"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])
REGION = Path(min_length=1, max_length=64, examples=["江苏"])


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
    mastery, schools = stored_mastery(
        session, state, models, region=school.region, school_id=school_id
    )
    plan = plan_school(
        school_id,
        schools,
        mastery,
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
        detail=f"teachers={len(mastery)}",
    )
    body = plan.to_dict()
    # Titles and hours of every item named, so no reader is left with bare CRS-0003 ids.
    named = {i for ids in [*plan.courses.values(), *plan.research_activities.values()] for i in ids}
    body["items"] = {
        item_id: {
            "title_zh": (entry := state.catalog.get(item_id)).title_zh,
            "hours": entry.hours,
            "kind": entry.kind,
        }
        for item_id in sorted(named & state.catalog_item_ids)
    }
    return {**body, "model_version": models.version}


@router.get("/schools/{school_id}/portrait")
def get_school_portrait(
    session: SessionDep, state: StateDep, principal: CurrentKey, school_id: str = SCHOOL_ID
) -> dict[str, Any]:
    """Aggregate mastery of the school: heatmap by 教研组, distribution, gaps (no individual rows)."""
    school = visible_school(session, principal, school_id)
    models = state.registry.require()
    mastery, schools = stored_mastery(
        session, state, models, region=school.region, school_id=school_id
    )
    portrait = build_portrait("school", school_id, mastery, schools, state.framework.codes)
    record_read(
        session,
        principal,
        "school_portrait",
        school_id=school_id,
        detail=f"teachers={len(mastery)}",
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
    """Hours completed against the policy, assessment results per point, rollout by batch."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    body = region_progress(session, state, region, chosen)
    record_read(session, principal, "region_progress", detail=f"region={region}")
    return body


@router.get("/regions/{region}/pairing")
def get_region_pairing(
    session: SessionDep, state: StateDep, principal: CurrentKey, region: str = REGION
) -> Response:
    """结对帮扶 for a region: weak schools, complementary partners, focus points and mentors."""
    visible_region(session, principal, region)
    result = region_pairing(session, state, region)
    record_read(session, principal, "region_pairing", detail=f"region={region}")
    # The stored JSON goes out as it is (see PairingResult): {"region", "pairs", "mentors"}.
    body = (
        f'{{"region":{json.dumps(region, ensure_ascii=False)},'
        f'"pairs":{result.pairs_json},"mentors":{result.mentors_json}}}'
    )
    return Response(content=body, media_type="application/json")


@router.get("/schools/{school_id}/pairing")
def get_school_pairing(
    session: SessionDep, state: StateDep, principal: CurrentKey, school_id: str = SCHOOL_ID
) -> dict[str, Any]:
    """The pairs this school takes part in, as the weak school or as the partner.

    Mentor teacher ids are shown only for the caller's own staff: a weak school learns which
    教研组 and point its mentor covers, not another school's teacher ids.
    """
    school = visible_school(session, principal, school_id)
    result = region_pairing(session, state, school.region)
    mine = [
        {
            **m,
            "mentor_teacher_id": m["mentor_teacher_id"]
            if m["partner_school"] == school_id
            else None,
        }
        for m in result.mentors()
        if school_id in (m["weak_school"], m["partner_school"])
    ]
    record_read(session, principal, "school_pairing", school_id=school_id)
    return {
        "school_id": school_id,
        "pairs": [
            p for p in result.pairs() if school_id in (p["weak_school"], p["partner_school"])
        ],
        "mentors": mine,
    }
