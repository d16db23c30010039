"""Map the headers of platform exports (Chinese or English) to canonical columns, and tell tables apart.

Provincial and city platforms name the same column a dozen ways (教师编号, 教师ID, 工号, teacher_id,
``学时（小时）``). Headers are compared after :func:`clean_header` (full-width → half-width,
bracketed units removed, spaces/underscores dropped, lower case), then looked up in
:data:`HEADER_ALIASES`. When two headers of one file map to the same column, the alias listed
first wins (学校编号 beats 学校, which is usually a name). Anything unmapped is dropped, so
personal data such as 姓名 or 身份证号 never reaches the province tables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence

__all__ = [
    "HEADER_ALIASES",
    "PRIVATE_HEADERS",
    "REQUIRED_COLUMNS",
    "clean_header",
    "detect_table",
    "is_known_header",
    "looks_meaningful",
    "map_headers",
    "recognised_count",
]

#: canonical column → accepted headers, most specific first (order decides conflicts).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "teacher_id": (
        "teacher_id",
        "教师编号",
        "教师ID",
        "教师工号",
        "教师代码",
        "工号",
        "用户编号",
        "用户ID",
        "teacher",
        "teacherid",
    ),
    "school_id": (
        "school_id",
        "学校编号",
        "学校代码",
        "学校ID",
        "学校标识码",
        "学校",
        "所在学校",
        "school",
    ),
    "stage": ("stage", "学段", "任教学段"),
    "subject": ("subject", "学科", "任教学科"),
    "years_of_service": ("years_of_service", "教龄", "工作年限", "任教年限"),
    "research_group": ("research_group", "教研组", "所在教研组"),
    "region": ("region", "province", "省份", "省", "地区"),
    "city": ("city", "市", "地市", "城市", "所在市"),
    "district": ("district", "county", "区县", "县区", "区/县", "所在区县"),
    "urban_rural": ("urban_rural", "城乡类型", "城乡", "城乡属性"),
    "environment": ("environment", "教学环境", "环境类型", "信息化环境", "学校环境"),
    "n_teachers": ("n_teachers", "教师数", "教师人数", "专任教师数"),
    "chosen_points": ("chosen_points", "选点", "所选能力点", "学校选定能力点", "学校选点"),
    "rollout_batch": ("rollout_batch", "batch", "推进批次", "批次"),
    "item_id": ("item_id", "course_id", "课程编号", "课程ID", "课程代码", "任务编号", "资源编号"),
    "state": (
        "state",
        "status",
        "学习状态",
        "完成状态",
        "课程状态",
        "完成情况",
        "是否完成",
        "状态",
        "completion_status",
    ),
    "question_id": ("question_id", "题目编号", "题号", "题目ID"),
    "response": ("response", "answer", "作答", "答案", "得分"),
    "event": ("event", "事件", "学习行为", "行为"),
    "value": ("value", "progress", "rating", "进度", "学习进度", "评分"),
    "timestamp": ("timestamp", "time", "时间", "发生时间", "学习时间"),
    "enrolled_at": ("enrolled_at", "报名时间", "选课时间"),
    "completed_at": ("completed_at", "完成时间", "完成日期"),
    "hours": ("hours", "学时", "获得学时", "学时数"),
    "point": ("point", "competency", "能力点", "微能力点", "能力点编号"),
    "grade": ("grade", "result", "考核结果", "考核等级", "评定结果", "等级"),
    "assessed_at": ("assessed_at", "assessment_date", "考核时间", "考核日期", "评定时间"),
}

#: Headers recognised as personal data: dropped on purpose and named as such in the report.
PRIVATE_HEADERS: frozenset[str] = frozenset(
    {
        "姓名",
        "教师姓名",
        "name",
        "teachername",
        "身份证号",
        "身份证",
        "手机",
        "手机号",
        "电话",
        "联系电话",
        "邮箱",
        "email",
        "出生日期",
        "性别",
    }
)

#: Columns a file of each table must have (after mapping): the ids, and for records the item
#: (a course, a point and its grade, a question and its answer). A teacher also needs a stage,
#: because every course of the catalog is for some stages. Every other column is optional and
#: takes a documented default or derivation (``training_data.imports.defaults``).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": ("school_id",),
    "teachers": ("teacher_id", "school_id", "stage"),
    "events": ("teacher_id", "item_id"),
    "grades": ("teacher_id", "point", "grade"),
    "responses": ("teacher_id", "question_id", "response"),
}

_BRACKETS = re.compile(r"[(\[（【].*?[)\]）】]")
_SEPARATORS = re.compile(r"[\s_\-·]+")


def clean_header(header: object) -> str:
    """Normalise a header for lookup: NFKC, drop bracketed units and separators, lower case."""
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "").strip()
    text = _BRACKETS.sub("", text)
    return _SEPARATORS.sub("", text).lower()


_LOOKUP: dict[str, tuple[str, int]] = {}
for _canonical, _aliases in HEADER_ALIASES.items():
    for _priority, _alias in enumerate(_aliases):
        _LOOKUP.setdefault(clean_header(_alias), (_canonical, _priority))
_PRIVATE = frozenset(clean_header(h) for h in PRIVATE_HEADERS)


def map_headers(
    headers: Sequence[object], overrides: Mapping[str, str | None] | None = None
) -> tuple[dict[int, str], list[str], list[str]]:
    """Map file headers to canonical columns.

    Parameters
    ----------
    headers
        The header cells of the file, in column order.
    overrides
        A mapping file's ``columns`` (header → canonical column, or ``None`` to ignore it on
        purpose); they win over the aliases. Keys are compared after :func:`clean_header`.

    Returns
    -------
    mapping
        Column position → canonical name (one position per canonical name).
    private
        Original headers dropped because they hold personal data.
    ignored
        Other original headers that map to nothing (or lost to a more specific alias).
    """
    best: dict[str, tuple[int, int]] = {}
    private: list[str] = []
    ignored: list[str] = []
    chosen = {clean_header(k): v for k, v in (overrides or {}).items()}
    for position, header in enumerate(headers):
        key = clean_header(header)
        if not key:
            continue
        if key in chosen:
            target = chosen[key]
            if target is None:
                continue  # ignored on purpose by the mapping file: neither kept nor warned about
            # priority -1: a mapping file's choice beats every alias
            if target in best:
                ignored.append(str(headers[best[target][0]]))
            best[target] = (position, -1)
            continue
        if key in _PRIVATE:
            private.append(str(header))
            continue
        found = _LOOKUP.get(key)
        if found is None:
            ignored.append(str(header))
            continue
        canonical, priority = found
        if canonical not in best or priority < best[canonical][1]:
            if canonical in best:
                ignored.append(str(headers[best[canonical][0]]))
            best[canonical] = (position, priority)
        else:
            ignored.append(str(header))
    mapping = {position: canonical for canonical, (position, _) in best.items()}
    return mapping, private, ignored


def is_known_header(header: object, extra: Collection[str] = ()) -> bool:
    """Whether a cell names a known column (an alias, or a header of the mapping file)."""
    key = clean_header(header)
    return bool(key) and (key in _LOOKUP or key in extra)


def recognised_count(headers: Iterable[object], extra: Collection[str] = ()) -> int:
    """How many cells of a candidate header row name a known column (used to find the header).

    ``extra`` holds the cleaned headers a mapping file names, so a dialect whose headers no
    alias covers is still found.
    """
    return sum(1 for h in headers if is_known_header(h, extra))


#: Headers that look like they carry a state, a progress, a score, a date or hours. Such a
#: column left unmapped is warned about with its values, never dropped silently.
MEANINGFUL_HEADER = re.compile(
    r"状态|status|state|进度|progress|成绩|分数|得分|score|日期|时间|date|time|学时|时长|hours?|"
    r"duration|完成|通过|结果|result|考核|等级|grade|批次|选点|环境|教龄"
)


def looks_meaningful(header: object) -> bool:
    """True for an unmapped header that probably carries data nengli would want."""
    return bool(MEANINGFUL_HEADER.search(clean_header(header)))


def is_province_responses(columns: Iterable[str]) -> bool:
    """True for a ``responses`` table written by :func:`competency_model.province.write_province`.

    nengli's own province files name the questionnaire item ``item_id`` (the column is shared
    with learning events); an answer column without an event column tells them apart, so a
    province exported by nengli imports back unchanged.
    """
    present = set(columns)
    return {"item_id", "response"} <= present and "event" not in present


def detect_table(columns: Iterable[str]) -> str | None:
    """Which province table a file with these canonical ``columns`` holds, or ``None``.

    The most specific signature wins: a questionnaire answer column means responses; a point
    plus a grade means assessment results; a course id means learning events; teachers are
    recognised by teacher id plus stage or subject; schools by school id plus a school-level
    attribute and no teacher id.
    """
    present = set(columns)
    if {"question_id", "response"} <= present or is_province_responses(present):
        return "responses"
    if {"point", "grade"} <= present:
        return "grades"
    if "item_id" in present:
        return "events"
    if "teacher_id" in present and present & {"stage", "subject", "years_of_service"}:
        return "teachers"
    if (
        "school_id" in present
        and "teacher_id" not in present
        and present & {"environment", "urban_rural", "region", "n_teachers", "chosen_points"}
    ):
        return "schools"
    return None
