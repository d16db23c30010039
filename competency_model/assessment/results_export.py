"""Assessment results for the provincial system: a documented, versioned CSV (Jiangsu §三(八)).

苏教师〔2020〕5号 §三(八): city platforms send the assessment data to the provincial system
「按照一定格式要求」 through an interface or an import. This module writes that file as the
reverse of ``nengli import``: one row per teacher × point with the latest grade, in columns the
importer reads back without a mapping, plus a manifest naming the format and its version so a
receiving system can refuse a file it does not know.

Format ``nengli-assessment-results`` version 1 (``docs/data-formats.md``): UTF-8 CSV, header
``teacher_id,school_id,point,grade,assessed_at``; ``grade`` ∈ 优秀/合格/不合格; ``assessed_at`` ISO
8601 (``YYYY-MM-DDTHH:MM:SS``); rows sorted by teacher then framework point order. The manifest
``<file>.manifest.json`` holds ``format``, ``version``, ``columns``, ``rows`` and the CSV's
``sha256``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from competency_model.errors import ImportRowError
from competency_model.framework import RATINGS, Framework

__all__ = [
    "RESULTS_COLUMNS",
    "RESULTS_FORMAT",
    "RESULTS_VERSION",
    "assessment_results",
    "write_assessment_results",
]

RESULTS_FORMAT = "nengli-assessment-results"
RESULTS_VERSION = 1
RESULTS_COLUMNS: tuple[str, ...] = ("teacher_id", "school_id", "point", "grade", "assessed_at")


def assessment_results(
    grades: pd.DataFrame,
    teachers: pd.DataFrame,
    framework: Framework,
    school_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The latest grade per teacher × point, in the export's columns and order.

    Raises
    ------
    ImportRowError
        A grade outside 优秀/合格/不合格, a point not in the framework, or a teacher without a
        school (each names the row's teacher and point).
    """
    latest = grades.sort_values("assessed_at", kind="stable").drop_duplicates(
        ["teacher_id", "point"], keep="last"
    )
    school_of = teachers.assign(teacher_id=teachers["teacher_id"].astype(str)).set_index(
        "teacher_id"
    )["school_id"]
    table = pd.DataFrame(
        {
            "teacher_id": latest["teacher_id"].astype(str).to_numpy(),
            "point": latest["point"].astype(str).to_numpy(),
            "grade": latest["grade"].astype(str).to_numpy(),
            "assessed_at": pd.to_datetime(latest["assessed_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    table["school_id"] = table["teacher_id"].map(school_of)
    for column, bad, why in (
        ("grade", ~table["grade"].isin(RATINGS), f"grade must be one of {'/'.join(RATINGS)}"),
        ("point", ~table["point"].isin(framework.codes), "point is not in the framework"),
        ("school_id", table["school_id"].isna(), "teacher has no school in the teachers table"),
    ):
        if bad.any():
            row = table.loc[bad].iloc[0]
            raise ImportRowError(
                f"assessment result of teacher {row['teacher_id']!r}, point {row['point']!r}: "
                f"{column} {row[column]!r}: {why}",
                details={"teacher_id": row["teacher_id"], "point": row["point"], "field": column},
            )
    if school_ids is not None:
        table = table.loc[table["school_id"].isin(set(school_ids))]
    order = {code: i for i, code in enumerate(framework.codes)}
    table = table.assign(_order=table["point"].map(order)).sort_values(["teacher_id", "_order"])
    return table[list(RESULTS_COLUMNS)].reset_index(drop=True)


def write_assessment_results(table: pd.DataFrame, path: Path) -> dict[str, object]:
    """Write the CSV and its manifest; return the manifest."""
    text = table[list(RESULTS_COLUMNS)].to_csv(index=False, lineterminator="\n")
    data = text.encode("utf-8")
    path.write_bytes(data)
    manifest: dict[str, object] = {
        "format": RESULTS_FORMAT,
        "version": RESULTS_VERSION,
        "columns": list(RESULTS_COLUMNS),
        "rows": len(table),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    Path(f"{path}.manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest
