"""What a 校长 / CIO and a 区县 project office ask of the programme: my school's progress by
教研组 and by teacher with the teachers behind the policy and the reason, and the drill-down of a
region by city, district and school — as JSON for the dashboard and as ``.xlsx``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from io import BytesIO
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.routes.teacher_models import PolicyQuery
from service.api.schemas.common import ID_PATTERN
from service.audit import record_read
from service.db.stores.cohort import local_now
from service.db.stores.region_aggregates import UNKNOWN, Level, region_breakdown
from service.db.stores.scope import visible_region, visible_school
from service.usecases.erased_aggregates import add_erased_to_breakdown
from service.usecases.planning import json_rows
from service.usecases.progress_views import cycle_ended_batches, school_view
from service.usecases.teacher_models import policy_for

router = APIRouter(prefix="/v1", tags=["schools & regions"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])
REGION = Path(min_length=1, max_length=64, examples=["江苏"])
AREA = Query(min_length=1, max_length=64, description=f"{UNKNOWN} selects blanks")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Column headers of the workbook: Chinese first, English second (the people reading it).
_HEADERS = {
    "teacher_id": "教师编号 / teacher",
    "research_group": "教研组 / research group",
    "stage": "学段 / stage",
    "subject": "学科 / subject",
    "hours": "总学时 / hours",
    "practice_hours": "实践学时 / practice hours",
    "online_hours": "线上学时 / online hours",
    "practice_share": "实践占比 / practice share",
    "compliant": "达标 / compliant",
    "hours_missing": "尚缺学时 / hours missing",
    "points_assessed": "已考核能力点 / points assessed",
    "points_passed": "合格及以上 / passed",
    "points_failed": "不合格 / failed",
    "reasons_zh": "未达标原因",
    "reasons_en": "reason (en)",
    "n_teachers": "教师数 / teachers",
    "n_compliant": "达标人数 / compliant",
    "compliant_share": "达标率 / compliant share",
    "mean_hours": "平均学时 / mean hours",
    "mean_practice_share": "平均实践占比 / mean practice share",
    "n_assessed": "已参加考核 / assessed",
    "city": "市 / city",
    "district": "区县 / district",
    "school_id": "学校 / school",
    "n_schools": "学校数 / schools",
    "teachers_started": "已开始学习 / started",
    "mean_practice_hours": "平均实践学时 / mean practice hours",
    "month": "月份 / month",
    "group": "分组 / group",
    "active_teachers": "当月学习教师 / active teachers",
    "completions": "完成条目 / items completed",
    "cumulative_mean_hours": "累计人均学时 / cumulative mean hours",
    "batch": "批次 / batch",
    "year": "计划年份 / planned year",
    "started_share": "已开始占比 / started share",
    "planned_cumulative_share": "计划累计占比 / planned (cumulative)",
    "actual_cumulative_share": "实际累计占比 / actual (cumulative)",
    "cycle_ended_short": "周期已结束未达标 / cycle ended short",
    "n_cycle_ended_short": "周期结束未达标人数 / cycle ended short",
    "rollout_batch": "推进批次 / rollout batch",
}


def _as_text(value: Any) -> Any:
    """A spreadsheet cell that can never become a formula (教研组 names are free text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def xlsx_workbook(sheets: tuple[tuple[str, pd.DataFrame], ...]) -> bytes:
    """An ``.xlsx`` with one sheet per (title, frame), Chinese-first headers, no formulas."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, frame in sheets:
        sheet = book.create_sheet(title)
        sheet.append([_HEADERS.get(column, column) for column in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([_as_text(value) for value in row])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_stream(title: str, pages: Iterable[pd.DataFrame]) -> Iterator[bytes]:
    """An ``.xlsx`` of one sheet from frames read page by page, as chunks of bytes.

    The workbook is written in openpyxl's write-only mode to a temporary file before the first
    chunk is returned (so the database is read inside the request); memory holds one page.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    header = False
    for frame in pages:
        if not header:
            sheet.append([_HEADERS.get(column, column) for column in frame.columns])
            header = True
        for row in frame.itertuples(index=False):
            sheet.append([_as_text(value) for value in row])
    if not header:
        sheet.append(["(无 / none)"])
    spool = tempfile.TemporaryFile()
    book.save(spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(1 << 16):
                yield block

    return chunks()


@router.get("/schools/{school_id}/progress")
def get_school_progress(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    school_id: str = SCHOOL_ID,
    policy: PolicyQuery = None,
    format: Annotated[Literal["json", "xlsx"], Query(description="json or xlsx")] = "json",
) -> Any:
    """My school's 学时, practice share and assessment status, by 教研组 and by teacher, and the
    未达标名单 with the reason."""
    school = visible_school(session, principal, school_id)
    chosen = policy_for(school.region, policy)
    progress = school_view(session, state, school, chosen)
    record_read(
        session,
        principal,
        "school_progress",
        school_id=school_id,
        detail=f"teachers={len(progress.teachers)} format={format}",
    )
    if format == "xlsx":
        sheets = (
            ("教研组 groups", progress.groups),
            ("教师 teachers", progress.teachers),
            ("未达标名单 behind", progress.behind),
        )
        return Response(
            xlsx_workbook(sheets),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="progress-{school_id}.xlsx"'},
        )
    teachers = progress.teachers
    n_teachers = int(len(teachers))
    return {
        "school_id": school_id,
        "policy": chosen.name,
        "rollout_batch": school.rollout_batch,
        "required": {
            "total_hours": chosen.total_hours,
            "min_practice_hours": chosen.min_practice_hours,
            "min_practice_share": chosen.min_practice_share,
            "min_online_hours": chosen.min_online_hours,
        },
        "n_teachers": n_teachers,
        "n_compliant": int(teachers["compliant"].sum()),
        "compliant_share": float(teachers["compliant"].mean()) if n_teachers else 0.0,
        "mean_hours": float(teachers["hours"].mean()) if n_teachers else 0.0,
        "mean_practice_share": float(teachers["practice_share"].mean()) if n_teachers else 0.0,
        # Chongqing §三(一): a cycle that ended short fails the cycle's credit review.
        "n_cycle_ended_short": int(teachers["cycle_ended_short"].sum()),
        "cycle_credit_required": chosen.cycle_credit_required,
        "groups": json_rows(progress.groups),
        "teachers": json_rows(teachers),
        "behind": json_rows(progress.behind),
    }


@router.get("/regions/{region}/breakdown")
def get_region_breakdown(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    region: str = REGION,
    level: Annotated[Level, Query(description="city, district or school")] = "city",
    city: Annotated[str | None, AREA] = None,
    district: Annotated[str | None, AREA] = None,
    policy: PolicyQuery = None,
    format: Annotated[Literal["json", "xlsx"], Query(description="json or xlsx")] = "json",
) -> Any:
    """Drill-down of a region: teachers, started, meeting the hour rules and mean hours per
    city, district or school (aggregated in the database)."""
    visible_region(session, principal, region)
    chosen = policy_for(region, policy)
    ended = cycle_ended_batches(region, chosen, local_now().date())
    live = region_breakdown(
        session,
        region,
        level,
        state.catalog,
        chosen,
        city=city,
        district=district,
        cycle_ended_batches=ended,
    )
    # Teachers erased under PIPL keep counting (service/usecases/erased_aggregates.py).
    merged = add_erased_to_breakdown(
        session,
        region,
        chosen.name,
        level,
        live,
        city=city,
        district=district,
        cycle_ended_batches=ended,
    )
    rows = [row.to_dict() for row in merged]
    record_read(
        session,
        principal,
        "region_breakdown",
        detail=f"region={region} level={level} city={city} district={district} format={format}",
    )
    if format == "xlsx":
        frame = pd.DataFrame(rows)
        return Response(
            xlsx_workbook((("区域进度 breakdown", frame),)),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="breakdown-{level}.xlsx"'},
        )
    return {
        "region": region,
        "level": level,
        "city": city,
        "district": district,
        "policy": chosen.name,
        "rows": rows,
    }
