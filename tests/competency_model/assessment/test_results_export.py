"""The assessment-results table: latest grade per teacher × point; bad rows named."""

from __future__ import annotations

import pandas as pd
import pytest

from competency_model.assessment.results_export import RESULTS_COLUMNS, assessment_results
from competency_model.errors import ImportRowError
from competency_model.framework import default_framework

TEACHERS = pd.DataFrame({"teacher_id": ["T1", "T2"], "school_id": ["S1", "S2"]})


def _grades(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["teacher_id", "point", "grade", "assessed_at"])
    return frame.assign(assessed_at=pd.to_datetime(frame["assessed_at"]))


def test_latest_grade_wins_and_rows_follow_the_framework_order() -> None:
    grades = _grades(
        [
            ("T1", "B6", "合格", "2021-05-01"),
            ("T1", "A1", "不合格", "2021-01-01"),
            ("T1", "A1", "优秀", "2021-06-01"),
            ("T2", "A3", "合格", "2021-02-01"),
        ]
    )
    table = assessment_results(grades, TEACHERS, default_framework())
    assert tuple(table.columns) == RESULTS_COLUMNS
    assert table[["teacher_id", "point", "grade"]].values.tolist() == [
        ["T1", "A1", "优秀"],
        ["T1", "B6", "合格"],
        ["T2", "A3", "合格"],
    ]
    assert table["assessed_at"].iloc[0] == "2021-06-01T00:00:00"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (("T1", "A1", "良好", "2021-01-01"), "grade"),
        (("T1", "Z9", "合格", "2021-01-01"), "point"),
        (("T9", "A1", "合格", "2021-01-01"), "school_id"),
    ],
)
def test_a_bad_row_is_named(row, field) -> None:
    with pytest.raises(ImportRowError, match=row[0]) as caught:
        assessment_results(_grades([row]), TEACHERS, default_framework())
    assert caught.value.details["field"] == field
