"""The dashboard's own questions: the teacher view in plain words, 学时 over time, the
未达标名单 of a school or district and the rollout batches — each scoped to the caller (a
foreign id is 404) and, for the tables, exportable to ``.xlsx``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response, StreamingResponse

from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.routes.school_views import XLSX, xlsx_stream, xlsx_workbook
from service.api.routes.teacher_models import PolicyQuery
from service.api.schemas.common import ID_PATTERN
from service.audit import record_read
from service.db.stores.dashboard_queries import Area
from service.db.stores.records import load_record
from service.db.stores.region_aggregates import UNKNOWN, batch_sums
from service.db.stores.scope import visible_region, visible_school, visible_teacher
from service.usecases.area_views import rollout_rows
from service.usecases.planning import json_rows
from service.usecases.progress_views import behind_list, behind_pages, trends
from service.usecases.teacher_models import policy_for
from service.usecases.teacher_overview import teacher_overview

router = APIRouter(prefix="/v1", tags=["dashboard"])
TEACHER_ID = Path(pattern=ID_PATTERN, examples=["T0000001"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])
REGION = Path(min_length=1, max_length=64, examples=["江苏"])
AREA = Query(min_length=1, max_length=64, description=f"{UNKNOWN} selects blanks")
FormatQuery = Annotated[Literal["json", "xlsx"], Query(description="json or xlsx")]
LimitQuery = Annotated[int, Query(ge=1, le=5000, description="rows per page")]
AfterQuery = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=80,
        pattern=r"^[0-9.eE+-]+~[A-Za-z0-9_.:-]+$",
        description="next_after of the previous page",
    ),
]


def _xlsx(sheets: tuple[tuple[str, pd.DataFrame], ...], filename: str) -> Response:
    return Response(
        xlsx_workbook(sheets),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _stream(pages: Any, filename: str) -> StreamingResponse:
    """The whole list as ``.xlsx``, written page by page to a temporary file (memory grows with
    a page, not the list) inside the request, then streamed from it."""
    return StreamingResponse(
        xlsx_stream("未达标名单 behind", pages),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


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
    table = trends(
        session, state, school.region, Area(region=school.region, school_id=school_id), chosen, by
    )
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
    limit: LimitQuery = 500,
    after: AfterQuery = None,
) -> Any:
    """My school's 未达标名单: each teacher behind the policy, with the reason (keyset pages;
    the ``.xlsx`` holds the whole list)."""
    school = visible_school(session, principal, school_id)
    chosen = policy_for(school.region, policy)
    area = Area(region=school.region, school_id=school_id)
    if format == "xlsx":
        record_read(session, principal, "school_behind", school_id=school_id, detail="xlsx")
        pages = behind_pages(session, state, school.region, area, chosen, with_grades=True)
        return _stream(pages, f"behind-{school_id}.xlsx")
    page = behind_list(
        session, state, school.region, area, chosen, after=after, limit=limit, with_grades=True
    )
    record_read(
        session, principal, "school_behind", school_id=school_id, detail=f"n={len(page.rows)}"
    )
    return {
        "school_id": school_id,
        "policy": chosen.name,
        "count": page.total,
        "n_cycle_ended_short": int(page.rows["cycle_ended_short"].sum()),
        "next_after": page.next_after,
        "data": json_rows(page.rows),
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
    limit: LimitQuery = 500,
    after: AfterQuery = None,
) -> Any:
    """The 未达标名单 of a region, city or district, with school and reason (keyset pages, most
    hours missing first; the ``.xlsx`` streams the whole list)."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    area = Area(region=region, city=city, district=district)
    where = f"region={region} city={city} district={district}"
    if format == "xlsx":
        record_read(session, principal, "region_behind", detail=f"{where} xlsx")
        pages = behind_pages(session, state, region, area, chosen, with_grades=False)
        return _stream(pages, "behind.xlsx")
    page = behind_list(
        session, state, region, area, chosen, after=after, limit=limit, with_grades=False
    )
    record_read(session, principal, "region_behind", detail=f"{where} n={len(page.rows)}")
    return {
        "region": region,
        "city": city,
        "district": district,
        "policy": chosen.name,
        "count": page.total,
        "next_after": page.next_after,
        "data": json_rows(page.rows),
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
    table = trends(
        session, state, region, Area(region=region, city=city, district=district), chosen, by
    )
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
    batches = batch_sums(session, region, state.catalog, chosen, city=city, district=district)
    rows = rollout_rows(batches, chosen)
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
