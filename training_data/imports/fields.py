"""Value vocabularies and vectorised parsers for the cells of platform exports.

Each parser takes a column of text cells and returns the canonical values with ``NaN`` where a
cell cannot be read, so a whole chunk is checked at once instead of row by row (a province
export can have millions of rows). The vocabularies accept the spellings platforms actually
use (报名/选课, 已完成, 通过, 普通高中, 镇区 …) and map them to the contract's codes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from competency_model.framework import ENVIRONMENTS, Framework, normalize_environment

__all__ = [
    "EVENT_ALIASES",
    "GRADE_ALIASES",
    "STAGE_ALIASES",
    "STATE_ALIASES",
    "URBAN_RURAL_ALIASES",
    "parse_environment",
    "parse_int",
    "parse_number",
    "parse_points",
    "parse_progress",
    "parse_timestamp",
    "point_code_parser",
    "vocabulary",
]

STAGE_ALIASES: dict[str, str] = {
    "幼儿园": "幼儿园",
    "学前": "幼儿园",
    "学前教育": "幼儿园",
    "kindergarten": "幼儿园",
    "preschool": "幼儿园",
    "小学": "小学",
    "primary": "小学",
    "初中": "初中",
    "初级中学": "初中",
    "junior": "初中",
    "juniorhigh": "初中",
    "高中": "高中",
    "普通高中": "高中",
    "senior": "高中",
    "seniorhigh": "高中",
    "中职": "中职",
    "中等职业学校": "中职",
    "职高": "中职",
    "vocational": "中职",
}
URBAN_RURAL_ALIASES: dict[str, str] = {
    "urban": "urban",
    "城市": "urban",
    "城区": "urban",
    "城镇": "urban",
    "镇区": "urban",
    "县城": "urban",
    "rural": "rural",
    "乡村": "rural",
    "农村": "rural",
    "乡镇": "rural",
}
EVENT_ALIASES: dict[str, str] = {
    "enrol": "enrol",
    "enroll": "enrol",
    "enrolled": "enrol",
    "报名": "enrol",
    "选课": "enrol",
    "progress": "progress",
    "inprogress": "progress",
    "学习中": "progress",
    "进度": "progress",
    "学习进度": "progress",
    "complete": "complete",
    "completed": "complete",
    "完成": "complete",
    "已完成": "complete",
    "结业": "complete",
    "rate": "rate",
    "rating": "rate",
    "评分": "rate",
    "评价": "rate",
}
#: Learning states (学习状态/完成状态/是否完成 …) → the event they stand for. Digits are left out on
#: purpose: a platform's 0/1/2 codes differ, and guessing one would misread every row.
STATE_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "已完成",
            "完成",
            "已学完",
            "学完",
            "已结业",
            "结业",
            "已结课",
            "完成学习",
            "是",
            "complete",
            "completed",
            "done",
            "finished",
            "yes",
            "y",
            "true",
        ),
        "complete",
    ),
    **dict.fromkeys(
        (
            "学习中",
            "进行中",
            "在学",
            "正在学习",
            "未学完",
            "学习未完成",
            "inprogress",
            "learning",
            "started",
            "ongoing",
        ),
        "progress",
    ),
    **dict.fromkeys(
        (
            "未开始",
            "已报名",
            "报名",
            "已选课",
            "选课",
            "未学习",
            "未完成",
            "否",
            "notstarted",
            "enrolled",
            "enrol",
            "enroll",
            "no",
            "n",
            "false",
        ),
        "enrol",
    ),
}
GRADE_ALIASES: dict[str, str] = {
    "优秀": "优秀",
    "优": "优秀",
    "excellent": "优秀",
    "合格": "合格",
    "通过": "合格",
    "pass": "合格",
    "passed": "合格",
    "不合格": "不合格",
    "未通过": "不合格",
    "fail": "不合格",
    "failed": "不合格",
}
_SPACES = re.compile(r"[\s_\-]+")
_CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"
_NUMERALS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5"}


def _key(series: pd.Series) -> pd.Series:
    return series.str.replace(_SPACES, "", regex=True).str.lower()


def vocabulary(series: pd.Series, aliases: dict[str, str]) -> pd.Series:
    """Map cells through an alias table (case/space-insensitive); unknown → NaN."""
    table = {_SPACES.sub("", k).lower(): v for k, v in aliases.items()}
    return _key(series).map(table)


def parse_number(series: pd.Series) -> pd.Series:
    """Float value of each cell (units such as 年/学时/h stripped); unreadable → NaN."""
    cleaned = series.str.replace(r"(年|学时|小时|h|人|分)$", "", regex=True).str.strip()
    values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


def parse_int(series: pd.Series) -> pd.Series:
    """Integer value of each cell (第一批 → 1); non-integers → NaN."""
    cleaned = series.str.replace(r"^第", "", regex=True).str.replace(r"批$", "", regex=True)
    for numeral, digit in _NUMERALS.items():
        cleaned = cleaned.str.replace(rf"^{numeral}$", digit, regex=True)
    values = parse_number(cleaned)
    return values.where(values == np.floor(values))


def parse_progress(series: pd.Series) -> pd.Series:
    """Progress as a fraction: ``0.8``, ``80%`` and ``80`` (a percentage) all give 0.8."""
    percent = series.str.endswith("%")
    values = parse_number(series.str.rstrip("%"))
    values = values.where(~percent, values / 100)
    return values.where((values <= 1) | percent, values / 100)


def parse_timestamp(series: pd.Series) -> pd.Series:
    """Parse dates/times (ISO, ``2024/3/1 9:30``, ``2024年3月1日``) to naive Beijing time."""
    text = series.str.strip()
    if text.str.contains("年", regex=False).any():
        text = text.str.replace(_CHINESE_DATE, r"\1-\2-\3", regex=True)
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    aware = text.str.contains(_TZ_SUFFIX, regex=True)
    if aware.any():
        utc = pd.to_datetime(text[aware], errors="coerce", format="ISO8601", utc=True)
        parsed[aware] = utc.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    naive = ~aware & text.ne("")
    if naive.any():
        parsed[naive] = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
    retry = naive & parsed.isna()
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", format="mixed")
    return parsed


def parse_environment(series: pd.Series) -> pd.Series:
    """Environment code from a code, a letter (A/B/C) or the Chinese label; unknown → NaN."""
    table: dict[str, str] = {}
    for value in series.dropna().unique():
        try:
            table[value] = normalize_environment(value)
        except Exception:  # FrameworkError: left as NaN and reported by the caller
            continue
    return series.map(table).where(series.map(table).isin(ENVIRONMENTS))


def point_code_parser(framework: Framework) -> dict[str, str]:
    """Lookup from accepted spellings (``A1``, ``a1``, ``A1技术支持的学情分析``, a unique name) to codes."""
    lookup: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    for code in framework.codes:
        point = framework.point(code)
        for spelling in (code, f"{code}{point.name_zh}", f"{code} {point.name_zh}"):
            lookup[_SPACES.sub("", spelling).lower()] = code
        names.setdefault(point.name_zh, []).append(code)
    for name, codes in names.items():
        if len(codes) == 1:  # 技术支持的学情分析 is A1, B1 and C1: a name alone is ambiguous
            lookup[_SPACES.sub("", name).lower()] = codes[0]
    return lookup


def parse_points(series: pd.Series, lookup: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Parse ``A1;A3、B2`` lists. Returns (``;``-joined codes, first unknown token or NaN)."""
    joined: list[str] = []
    unknown: list[object] = []
    for cell in series:
        codes, bad = [], None
        for token in re.split(r"[;；,，、/\s]+", cell):
            if not token:
                continue
            code = lookup.get(token.lower())
            if code is None:
                bad = bad or token
            elif code not in codes:
                codes.append(code)
        joined.append(";".join(codes))
        unknown.append(bad if bad is not None else np.nan)
    return (
        pd.Series(joined, index=series.index, dtype=str),
        pd.Series(unknown, index=series.index, dtype=object),
    )
