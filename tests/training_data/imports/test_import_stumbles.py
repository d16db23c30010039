"""One test per import stumble of issue 14, each reproducing what went wrong, now right."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from training_data.imports import ImportOptions, import_files, write_import

OPTIONS = ImportOptions(export_date=dt.date(2024, 7, 1))
STATE_RECORDS = [
    ["教师编号", "课程编号", "学习状态", "完成时间"],
    ["T001", "CRS-0001", "已完成", "2024-03-05 10:00"],
    ["T001", "CRS-0002", "学习中", "2024-03-06 10:00"],
    ["T002", "CRS-0003", "学习中", "2024-03-07 10:00"],
    ["T002", "CRS-0004", "已学完", "2024-03-08 10:00"],
    ["T002", "CRS-0005", "未开始", ""],
]


def test_schools_without_region_counts_or_batch_are_accepted_not_refused_whole(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    schools = write_csv(
        "学校.csv", [["学校编号", "学校名称", "教学环境"], ["S01", "一中", "B"]], "gbk"
    )
    teachers = write_csv("教师.csv", samples.TEACHERS_ZH, "gbk")
    result = import_files(
        [schools, teachers], now=samples.NOW, options=OPTIONS.model_copy(update={"region": "江苏"})
    )
    report = write_import(result, tmp_path / "out", mode="reject")  # nothing rejected
    school = result.tables["schools"].set_index("school_id").loc["S01"]
    assert (school["region"], school["n_teachers"], school["rollout_batch"]) == ("江苏", 2, 0)
    assert report.rejected == 0


def test_grades_without_a_date_take_the_export_date_and_are_flagged(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [["教师编号", "能力点", "考核结果"], ["T001", "A1", "合格"]]
    result = import_files([write_csv("考核.csv", rows)], now=samples.NOW, options=OPTIONS)
    grades = result.tables["grades"]
    assert grades["assessed_at"].tolist() == [pd.Timestamp("2024-07-01")]
    assert grades["assessed_at_inferred"].tolist() == [True]
    assert "assessed_at_inferred" in result.report.warning_codes()


def test_learning_state_decides_completions_not_the_completion_time(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    result = import_files([write_csv("记录.csv", STATE_RECORDS)], now=samples.NOW, options=OPTIONS)
    events = result.tables["events"]
    assert sorted(events.loc[events["event"] == "complete", "item_id"]) == ["CRS-0001", "CRS-0004"]
    assert sorted(events.loc[events["event"] == "progress", "item_id"]) == ["CRS-0002", "CRS-0003"]
    assert events.loc[events["event"] == "progress", "value"].isna().all()  # 学习中 needs none
    rule = next(w for w in result.report.warnings if w.code == "completion_rule")
    assert rule.rows == 2 and rule.values == {"学习中": 2}
    assert "2 of 5 rows" in rule.message_en and "4 rows have a completion time" in rule.message_en


def test_unknown_learning_state_is_a_row_error_naming_it(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [STATE_RECORDS[0], ["T001", "CRS-0001", "挂起", ""]]
    result = import_files([write_csv("记录.csv", rows)], now=samples.NOW, options=OPTIONS)
    assert [(r.field, r.value) for r in result.report.rejected_rows] == [("state", "挂起")]
    assert "unknown learning state" in result.report.rejected_rows[0].reason_en


def test_completion_time_with_progress_below_full_is_not_a_completion(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["教师编号", "课程编号", "学习进度", "完成时间"],
        ["T001", "CRS-0001", "60%", "2024-03-05"],
    ]
    result = import_files([write_csv("记录.csv", rows)], now=samples.NOW, options=OPTIONS)
    assert result.tables["events"]["event"].tolist() == ["progress"]
    assert "completion_rule" in result.report.warning_codes()


def test_unmapped_meaningful_column_is_a_warning_with_its_values(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["教师编号", "课程编号", "完成时间", "考试成绩"],
        ["T001", "CRS-0001", "2024-03-05", "88"],
    ]
    result = import_files([write_csv("记录.csv", rows)], now=samples.NOW, options=OPTIONS)
    warning = result.report.warnings[0]
    assert (warning.code, warning.column, warning.values) == (
        "unmapped_column",
        "考试成绩",
        {"88": 1},
    )


@pytest.mark.parametrize(
    ("stage", "spelled", "canonical"),
    [
        ("初中", "信息技术", "信息科技"),
        ("高中", "信息科技", "信息技术"),
        ("小学", "思想政治", "道德与法治"),
    ],
)
def test_subject_spellings_are_one_subject(
    samples: SimpleNamespace,
    write_csv: Callable[..., Path],
    stage: str,
    spelled: str,
    canonical: str,
) -> None:
    rows = [["教师编号", "学校编号", "学段", "学科"], ["T1", "S1", stage, spelled]]
    result = import_files([write_csv("教师.csv", rows)], now=samples.NOW, options=OPTIONS)
    assert result.tables["teachers"]["subject"].tolist() == [canonical]
    assert result.tables["teachers"]["research_group"].tolist() == [f"{stage}{canonical}组"]


def test_teacher_with_unknown_school_is_rejected_when_asked(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    options = OPTIONS.model_copy(update={"missing_schools": "reject"})
    result = import_files(
        [write_csv("教师.csv", samples.TEACHERS_ZH)],
        now=samples.NOW,
        options=options,
        known_school_ids={"S01"},
    )
    assert [(r.row, r.field) for r in result.report.rejected_rows] == [(4, "school_id")]
    assert len(result.tables["teachers"]) == 2
