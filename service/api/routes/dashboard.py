"""The dashboard's own questions: the teacher view in plain words, 学时 over time, the
未达标名单 of a school or district and the rollout batches — each scoped to the caller (a
foreign id is 404) and, for the tables, exportable to ``.xlsx``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import func, literal, select

from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.routes.school_views import XLSX, xlsx_workbook
from service.api.routes.teacher_models import PolicyQuery
from service.api.schemas.common import ID_PATTERN
from service.audit import record_read
from service.db.models import School, Teacher
from service.db.stores.dashboard_queries import Area, first_completions, load_area
from service.db.stores.records import load_record
from service.db.stores.region_aggregates import UNKNOWN, region_breakdown
from service.db.stores.scope import visible_region, visible_school, visible_teacher
from service.usecases.area_views import TrendBy, area_behind, monthly_trend, rollout_rows
from service.usecases.planning import json_rows
from service.usecases.teacher_models import policy_for
from service.usecases.teacher_overview import teacher_overview

router = APIRouter(prefix="/v1", tags=["dashboard"])
TEACHER_ID = Path(pattern=ID_PATTERN, examples=["T0000001"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])
REGION = Path(min_length=1, max_length=64, examples=["江苏"])
AREA = Query(min_length=1, max_length=64, description=f"{UNKNOWN} selects blanks")
FormatQuery = Annotated[Literal["json", "xlsx"], Query(description="json or xlsx")]


def _xlsx(sheets: tuple[tuple[str, pd.DataFrame], ...], filename: str) -> Response:
    return Response(
        xlsx_workbook(sheets),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _group_sizes(session: SessionDep, area: Area, by: TrendBy) -> dict[str, int]:
    """Teachers per trend group: the denominators of the running mean hours."""
    group = {
        "total": literal("total"),
        "research_group": func.coalesce(Teacher.research_group, ""),
        "school_id": Teacher.school_id,
    }[by]
    rows = session.execute(
        select(group, func.count())
        .select_from(Teacher)
        .join(School, School.school_id == Teacher.school_id)
        .where(*area.conditions())
        .group_by(group)
    ).all()
    return {(str(name) or "(未填写)"): int(n) for name, n in rows}


@router.get("/teachers/{teacher_id}/overview")
def get_teacher_overview(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    teacher_id: str = TEACHER_ID,
    policy: PolicyQuery = None,
) -> dict[str, Any]:
    """The teacher view in plain words: levels, titled courses and tasks with their best two
    reasons, and a dated weekly plan with completed items marked done — from one diagnosis."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    chosen = policy_for(school.region, policy)
    record = load_record(session, teacher, school)
    overview = teacher_overview(state, record, chosen)
    record_read(
        session,
        principal,
        "teacher_overview",
        teacher_id=teacher_id,
        school_id=school.school_id,
        detail=f"policy={chosen.name}",
    )
    return overview


def _trend(
    session: SessionDep, state: StateDep, area: Area, policy: Any, by: TrendBy
) -> pd.DataFrame:
    completions = first_completions(session, area)
    return monthly_trend(completions, state.catalog, policy, _group_sizes(session, area, by), by)


@router.get("/schools/{school_id}/trends")
def get_school_trends(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    school_id: str = SCHOOL_ID,
    by: Annotated[Literal["total", "research_group"], Query()] = "research_group",
    policy: PolicyQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """学时 added per month at my school (per 教研组 or in total), with the running mean per teacher."""
    school = visible_school(session, principal, school_id)
    chosen = policy_for(school.region, policy)
    table = _trend(session, state, Area(school_id=school_id), chosen, by)
    record_read(session, principal, "school_trends", school_id=school_id, detail=f"by={by}")
    if format == "xlsx":
        return _xlsx((("学时趋势 trends", table),), f"trends-{school_id}.xlsx")
    return {
        "school_id": school_id,
        "policy": chosen.name,
        "by": by,
        "total_hours": chosen.total_hours,
        "rows": json_rows(table),
    }


@router.get("/schools/{school_id}/behind")
def get_school_behind(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    school_id: str = SCHOOL_ID,
    policy: PolicyQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """My school's 未达标名单: each teacher behind the policy, with the reason."""
    school = visible_school(session, principal, school_id)
    chosen = policy_for(school.region, policy)
    behind = area_behind(load_area(session, Area(school_id=school_id)), state.catalog, chosen)
    record_read(session, principal, "school_behind", school_id=school_id, detail=f"n={len(behind)}")
    if format == "xlsx":
        return _xlsx((("未达标名单 behind", behind),), f"behind-{school_id}.xlsx")
    return {
        "school_id": school_id,
        "policy": chosen.name,
        "count": len(behind),
        "data": json_rows(behind),
    }


@router.get("/regions/{region}/behind")
def get_region_behind(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    region: str = REGION,
    city: Annotated[str | None, AREA] = None,
    district: Annotated[str | None, AREA] = None,
    policy: PolicyQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """The 未达标名单 of a region, city or district, with school and reason."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    area = Area(region=region, city=city, district=district)
    # Hours only: the assessment columns stay on the school's own list.
    tables = load_area(session, area, with_grades=False)
    behind = area_behind(tables, state.catalog, chosen).drop(
        columns=["points_assessed", "points_passed", "points_failed"]
    )
    record_read(
        session,
        principal,
        "region_behind",
        detail=f"region={region} city={city} district={district} n={len(behind)}",
    )
    if format == "xlsx":
        return _xlsx((("未达标名单 behind", behind),), "behind.xlsx")
    return {
        "region": region,
        "city": city,
        "district": district,
        "policy": chosen.name,
        "count": len(behind),
        "data": json_rows(behind),
    }


@router.get("/regions/{region}/trends")
def get_region_trends(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    region: str = REGION,
    city: Annotated[str | None, AREA] = None,
    district: Annotated[str | None, AREA] = None,
    by: Annotated[Literal["total", "school_id"], Query()] = "total",
    policy: PolicyQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """学时 added per month in a region, city or district (in total or per school)."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    table = _trend(session, state, Area(region=region, city=city, district=district), chosen, by)
    record_read(
        session,
        principal,
        "region_trends",
        detail=f"region={region} city={city} district={district} by={by}",
    )
    if format == "xlsx":
        return _xlsx((("学时趋势 trends", table),), "trends.xlsx")
    return {
        "region": region,
        "city": city,
        "district": district,
        "policy": chosen.name,
        "by": by,
        "total_hours": chosen.total_hours,
        "rows": json_rows(table),
    }


@router.get("/regions/{region}/rollout")
def get_region_rollout(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    region: str = REGION,
    city: Annotated[str | None, AREA] = None,
    district: Annotated[str | None, AREA] = None,
    policy: PolicyQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """Progress of each rollout batch (整校推进 批次) against the policy's rollout plan."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    schools = region_breakdown(
        session, region, "school", state.catalog, chosen, city=city, district=district
    )
    area = Area(region=region, city=city, district=district)
    batch_of = {
        str(school_id): batch
        for school_id, batch in session.execute(
            select(School.school_id, School.rollout_batch).where(*area.conditions())
        ).all()
    }
    rows = rollout_rows(schools, batch_of, chosen)
    record_read(
        session,
        principal,
        "region_rollout",
        detail=f"region={region} city={city} district={district}",
    )
    if format == "xlsx":
        return _xlsx((("推进批次 rollout", pd.DataFrame(rows)),), "rollout.xlsx")
    return {
        "region": region,
        "city": city,
        "district": district,
        "policy": chosen.name,
        "rollout": [step.model_dump(mode="json") for step in chosen.rollout],
        "rows": rows,
    }
