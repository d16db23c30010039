"""Defaults and derivations for what an export does not say, each one counted for the report.

Only ids (and for records the item) are required. Everything else has a documented fallback:

=================  ==========================================================================
column             when the file does not have it
=================  ==========================================================================
region/city/dist.  ``--region/--city/--district`` (HTTP: the importing key's region), else 未知
urban_rural        ``unknown``
environment        ``multimedia``: the least-equipped environment, so nothing is recommended
                   that needs equipment the school may lack
n_teachers         counted from the teachers of the batch (0 when there are none)
rollout_batch      0 (unknown batch: no step of the policy's rollout)
chosen_points      inferred from the school's assessment records, flagged
                   ``chosen_points_inferred``
subject            通用 (学科通用 courses only)
years_of_service   0 (unknown)
assessed_at        the export date (``--export-date``, else the import day), flagged
                   ``assessed_at_inferred``
=================  ==========================================================================

A blank cell in a column the file *does* have is a hole in the export, not a missing feature:
ids, stage, subject and region/city/district are then rejected (unless an option gives the
value), the other attributes take the default above and are counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from competency_model.vocabulary import Vocabulary
from training_data.imports.checks import Checker, Tally
from training_data.imports.options import ImportOptions

__all__ = [
    "ASSESSED_AT_INFERRED",
    "CHOSEN_POINTS_INFERRED",
    "DEFAULT_ENVIRONMENT",
    "FLAG_COLUMNS",
    "SCHOOL_INFERRED",
    "UNKNOWN_BATCH",
    "UNKNOWN_PLACE",
    "UNKNOWN_URBAN_RURAL",
    "count_teachers",
    "export_moment",
    "infer_chosen_points",
    "infer_schools",
    "map_unique",
    "optional",
    "place",
    "subjects",
]

UNKNOWN_PLACE = "未知"
UNKNOWN_URBAN_RURAL = "unknown"
DEFAULT_ENVIRONMENT = "multimedia"
UNKNOWN_BATCH = 0
ASSESSED_AT_INFERRED = "assessed_at_inferred"
CHOSEN_POINTS_INFERRED = "chosen_points_inferred"
SCHOOL_INFERRED = "school_inferred"
#: Extra boolean columns the importer adds to a table (kept by the province reader and writer).
FLAG_COLUMNS: dict[str, tuple[str, ...]] = {
    "grades": (ASSESSED_AT_INFERRED,),
    "schools": (SCHOOL_INFERRED, CHOSEN_POINTS_INFERRED),
}
#: A point counts as chosen by a school when at least this share of its graded teachers has it.
CHOSEN_SHARE = 0.05


def export_moment(options: ImportOptions, now: pd.Timestamp) -> pd.Timestamp:
    """The moment an undated grade is given: the export date, else today (Beijing time)."""
    if options.export_date is not None:
        return pd.Timestamp(options.export_date)
    today = pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None).normalize()
    return min(today, now.normalize())


def map_unique(series: pd.Series, lookup: Callable[[str], Any]) -> pd.Series:
    """``series.map(lookup)`` computed once per distinct value (exports repeat values a lot)."""
    table = {value: lookup(value) for value in series.unique() if value != ""}
    return series.map(table)


def place(options: ImportOptions, tally: Tally, check: Checker, name: str) -> pd.Series:
    """region/city/district: the file's value, else the option (or key), else 未知."""
    given: str | None = getattr(options, name)
    how = options.region_source if name == "region" and given else "option"
    if not check.has(name):
        value = given or UNKNOWN_PLACE
        tally.derive(
            check.source, "schools", name, how if given else "default", value, len(check.cells)
        )
        return pd.Series(value, index=check.cells.index, dtype=str)
    text = check.text(name, required=given is None)
    if given is not None:
        tally.derive(check.source, "schools", name, how, given, int(text.eq("").sum()))
        text = text.where(text.ne(""), given)
    return text


def optional(
    tally: Tally,
    check: Checker,
    name: str,
    parsed: pd.Series,
    default: object,
    zh: str,
    en: str,
    how: str = "default",
    label: str | None = None,
) -> pd.Series:
    """An optional school attribute: bad values flagged, blank or absent ones defaulted.

    ``label`` is what the report shows as the value (default: ``default`` itself).
    """
    if check.has(name):
        blank = check.cells[name].str.strip().eq("")
        check.flag(~blank & parsed.isna(), name, zh, en)
    else:
        blank = pd.Series(True, index=check.cells.index)
    tally.derive(check.source, "schools", name, how, label or str(default), int(blank.sum()))
    return parsed.where(~blank, default).fillna(default)


def subjects(vocabulary: Vocabulary, tally: Tally, check: Checker, stage: pd.Series) -> pd.Series:
    """Subjects normalised per stage (信息技术 → 信息科技 in 初中); unknown ones kept, counted."""
    text = check.text("subject")
    pairs = pd.DataFrame({"subject": text, "stage": stage.fillna("")})
    distinct = pairs.drop_duplicates()
    canonical = [
        vocabulary.subject(s, g) if s else None
        for s, g in zip(distinct["subject"], distinct["stage"], strict=True)
    ]
    lookup = dict(
        zip(zip(distinct["subject"], distinct["stage"], strict=True), canonical, strict=True)
    )
    mapped = pd.Series(
        [lookup[(s, g)] for s, g in zip(pairs["subject"], pairs["stage"], strict=True)],
        index=text.index,
        dtype=object,
    )
    unknown = text.ne("") & mapped.isna()
    tally.note("unknown_subject", check.source, "subject", text[unknown])
    changed = mapped.notna() & mapped.ne(text)
    for (raw, new), count in (
        pd.DataFrame({"raw": text[changed], "new": mapped[changed]}).value_counts().items()
    ):
        tally.derive(check.source, "teachers", "subject", "normalised", f"{raw}→{new}", count)
    return mapped.where(mapped.notna(), text).astype(str)


def count_teachers(
    schools: pd.DataFrame, teachers: pd.DataFrame | None
) -> tuple[pd.DataFrame, int]:
    """Fill ``n_teachers`` = 0 (absent in the file) with the batch's teacher count per school."""
    if teachers is None or teachers.empty or schools.empty:
        return schools, 0
    counts = teachers.groupby("school_id")["teacher_id"].nunique()
    missing = schools["n_teachers"].eq(0)
    found = schools["school_id"].map(counts)
    fill = missing & found.notna()
    schools = schools.copy()
    schools.loc[fill, "n_teachers"] = found[fill].astype("int64")
    return schools, int(fill.sum())


def infer_schools(teachers: pd.DataFrame, known: set[str], options: ImportOptions) -> pd.DataFrame:
    """School rows for the teachers' schools that are neither stored nor in the batch."""
    unknown = sorted(set(teachers["school_id"]) - known)
    counts = (
        teachers[teachers["school_id"].isin(unknown)].groupby("school_id")["teacher_id"].nunique()
    )
    return pd.DataFrame(
        {
            "school_id": unknown,
            "region": options.region or UNKNOWN_PLACE,
            "city": options.city or UNKNOWN_PLACE,
            "district": options.district or UNKNOWN_PLACE,
            "urban_rural": UNKNOWN_URBAN_RURAL,
            "environment": DEFAULT_ENVIRONMENT,
            "n_teachers": [int(counts.get(s, 0)) for s in unknown],
            "chosen_points": "",
            "rollout_batch": UNKNOWN_BATCH,
            SCHOOL_INFERRED: True,
        }
    )


def _code_order(code: str) -> tuple[str, int]:
    return code[:1], int(code[1:]) if code[1:].isdigit() else 0


def infer_chosen_points(
    schools: pd.DataFrame, teachers: pd.DataFrame, grades: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """选点 of schools that have none, from the points their teachers were assessed on.

    A point counts when at least :data:`CHOSEN_SHARE` of the school's graded teachers (and at
    least one) has a grade on it. Returns the schools (``chosen_points_inferred`` set) and how
    many schools got points this way.
    """
    out = schools.copy()
    flag = out[CHOSEN_POINTS_INFERRED] if CHOSEN_POINTS_INFERRED in out else False
    out[CHOSEN_POINTS_INFERRED] = pd.Series(flag, index=out.index).fillna(False).astype(bool)
    empty = out["chosen_points"].fillna("").eq("")
    if not empty.any() or grades.empty or teachers.empty:
        return out, 0
    school_of = teachers.drop_duplicates("teacher_id").set_index("teacher_id")["school_id"]
    graded = grades.assign(school_id=grades["teacher_id"].map(school_of)).dropna(
        subset=["school_id"]
    )
    per_point = graded.groupby(["school_id", "point"])["teacher_id"].nunique()
    per_school = graded.groupby("school_id")["teacher_id"].nunique()
    chosen: dict[str, str] = {}
    for school_id, total in per_school.items():
        needed = max(1, math.ceil(CHOSEN_SHARE * int(total)))
        points = per_point.loc[school_id]
        codes = sorted((str(p) for p, n in points.items() if n >= needed), key=_code_order)
        chosen[str(school_id)] = ";".join(codes)
    found = out["school_id"].map(chosen).fillna("")
    fill = empty & found.ne("")
    out.loc[fill, "chosen_points"] = found[fill]
    out.loc[fill, CHOSEN_POINTS_INFERRED] = True
    return out, int(np.count_nonzero(fill))
