"""Row validation: every rule rejects with row number, field, value and a zh+en reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from competency_model.item_bank import default_item_bank
from training_data.imports import ImportResult, import_files

TEACHER_HEADER = ["教师编号", "学校编号", "学段", "学科", "教龄"]
TEACHER_ROW = ["T001", "S01", "小学", "数学", "12"]
SCHOOL_HEADER = [
    "学校编号",
    "省份",
    "市",
    "区县",
    "城乡类型",
    "教学环境",
    "教师数",
    "选点",
    "推进批次",
]
SCHOOL_ROW = ["S01", "江苏", "南京", "玄武区", "城区", "智慧学习环境", "120", "A1、B2", "1"]
COMPLETION_HEADER = ["教师编号", "课程编号", "学时", "完成时间"]
COMPLETION_ROW = ["T001", "CRS-0001", "1", "2024-03-05 10:00"]
LOG_HEADER = ["teacher_id", "course_id", "event", "value", "timestamp"]
LOG_ROW = ["T001", "CRS-0001", "progress", "0.5", "2024-03-05 10:00"]
GRADE_HEADER = ["教师编号", "能力点", "考核结果", "考核时间"]
GRADE_ROW = ["T001", "A1", "合格", "2024-06-30"]
_BANK = default_item_bank()
SCENARIO = next(i for i in _BANK.items if i.kind == "scenario")
SELF_RATING = next(i for i in _BANK.items if i.kind == "self_rating")
RESPONSE_HEADER = ["教师编号", "题号", "作答"]
RESPONSE_ROW = ["T001", SCENARIO.item_id, "1"]
RATING_ROW = ["T001", SELF_RATING.item_id, "3"]


def _run(
    write_csv: Callable[..., Path],
    now: pd.Timestamp,
    header: list[str],
    row: list[str],
    known: set[str] | None = None,
) -> ImportResult:
    path = write_csv("export.csv", [header, row])
    return import_files([path], known_teacher_ids=known, now=now)


def _with(row: list[str], header: list[str], column: str, value: str) -> list[str]:
    changed = list(row)
    changed[header.index(column)] = value
    return changed


CASES = [
    # (header, row, column changed, bad value, field reported, words in the English reason)
    (TEACHER_HEADER, TEACHER_ROW, "教师编号", "", "teacher_id", "required"),
    (TEACHER_HEADER, TEACHER_ROW, "学校编号", " ", "school_id", "required"),
    (TEACHER_HEADER, TEACHER_ROW, "学段", "大学", "stage", "unknown stage"),
    (TEACHER_HEADER, TEACHER_ROW, "学科", "", "subject", "required"),
    (TEACHER_HEADER, TEACHER_ROW, "教龄", "-2", "years_of_service", "0–50"),
    (TEACHER_HEADER, TEACHER_ROW, "教龄", "十年", "years_of_service", "whole number"),
    (TEACHER_HEADER, TEACHER_ROW, "教龄", "7.5", "years_of_service", "whole number"),
    (SCHOOL_HEADER, SCHOOL_ROW, "城乡类型", "郊区", "urban_rural", "urban or rural"),
    (SCHOOL_HEADER, SCHOOL_ROW, "教学环境", "VR实验室", "environment", "multimedia/blended"),
    (SCHOOL_HEADER, SCHOOL_ROW, "教师数", "0", "n_teachers", "positive"),
    (SCHOOL_HEADER, SCHOOL_ROW, "推进批次", "4", "rollout_batch", "1, 2 or 3"),
    (SCHOOL_HEADER, SCHOOL_ROW, "选点", "A1;Z9", "chosen_points", "unknown point"),
    (SCHOOL_HEADER, SCHOOL_ROW, "省份", "", "region", "required"),
    (
        COMPLETION_HEADER,
        COMPLETION_ROW,
        "课程编号",
        "CRS-9999",
        "item_id",
        "not in the course catalog",
    ),
    (COMPLETION_HEADER, COMPLETION_ROW, "课程编号", "", "item_id", "required"),
    (COMPLETION_HEADER, COMPLETION_ROW, "完成时间", "昨天", "completed_at", "not a date"),
    (COMPLETION_HEADER, COMPLETION_ROW, "完成时间", "2204-03-05", "completed_at", "later than now"),
    (COMPLETION_HEADER, COMPLETION_ROW, "完成时间", "", "completed_at", "required"),
    (COMPLETION_HEADER, COMPLETION_ROW, "学时", "-1", "hours", "positive"),
    (LOG_HEADER, LOG_ROW, "event", "浏览", "event", "unknown event"),
    (LOG_HEADER, LOG_ROW, "value", "150%", "value", "progress must be"),
    (LOG_HEADER, _with(LOG_ROW, LOG_HEADER, "event", "rate"), "value", "7", "value", "rating"),
    (LOG_HEADER, LOG_ROW, "timestamp", "", "timestamp", "required"),
    (GRADE_HEADER, GRADE_ROW, "能力点", "Z9", "point", "unknown point"),
    (GRADE_HEADER, GRADE_ROW, "能力点", "技术支持的学情分析", "point", "unknown point"),
    (GRADE_HEADER, GRADE_ROW, "考核结果", "良好", "grade", "优秀/合格/不合格"),
    (GRADE_HEADER, GRADE_ROW, "考核时间", "2024-13-45", "assessed_at", "not a date"),
    (RESPONSE_HEADER, RESPONSE_ROW, "作答", "-1", "response", "scenario answer"),
    (RESPONSE_HEADER, RESPONSE_ROW, "作答", "0.5", "response", "scenario answer"),
    (RESPONSE_HEADER, RESPONSE_ROW, "作答", "是", "response", "scenario answer"),
    (RESPONSE_HEADER, RESPONSE_ROW, "题号", "Q999", "question_id", "not in the item bank"),
    (RESPONSE_HEADER, RATING_ROW, "作答", "0", "response", "self-rating"),
    (
        RESPONSE_HEADER,
        RATING_ROW,
        "作答",
        str((SELF_RATING.scale_max or 5) + 1),
        "response",
        "self-rating",
    ),
    (RESPONSE_HEADER, RATING_ROW, "作答", "2.5", "response", "self-rating"),
]


@pytest.mark.parametrize(
    ("header", "row", "column", "value", "field", "reason"),
    CASES,
    ids=[f"{c[4]}={c[3]!r}" for c in CASES],
)
def test_bad_cell_is_rejected_with_row_field_value_and_reason(
    samples: SimpleNamespace,
    write_csv: Callable[..., Path],
    header: list[str],
    row: list[str],
    column: str,
    value: str,
    field: str,
    reason: str,
) -> None:
    result = _run(write_csv, samples.NOW, header, _with(row, header, column, value))
    assert result.report.rejected == 1 and result.report.accepted == 0
    issue = next(r for r in result.report.rejected_rows if r.field == field)
    assert issue.row == 2
    assert issue.value == value.strip() or issue.value == value
    assert reason in issue.reason_en
    assert issue.reason_zh and any("\u4e00" <= ch <= "\u9fff" for ch in issue.reason_zh)


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (TEACHER_HEADER, TEACHER_ROW),
        (SCHOOL_HEADER, SCHOOL_ROW),
        (COMPLETION_HEADER, COMPLETION_ROW),
        (LOG_HEADER, LOG_ROW),
        (GRADE_HEADER, GRADE_ROW),
        (RESPONSE_HEADER, RESPONSE_ROW),
    ],
)
def test_good_row_of_each_table_is_accepted(
    samples: SimpleNamespace, write_csv: Callable[..., Path], header: list[str], row: list[str]
) -> None:
    result = _run(write_csv, samples.NOW, header, row)
    assert result.report.rejected == 0 and result.report.accepted == 1


def test_unknown_teacher_is_rejected_when_known_ids_are_given(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    result = _run(write_csv, samples.NOW, GRADE_HEADER, GRADE_ROW, known={"T999"})
    assert [(r.row, r.field) for r in result.report.rejected_rows] == [(2, "teacher_id")]
    assert "import the teachers file" in result.report.rejected_rows[0].reason_en


def test_teachers_in_the_same_batch_count_as_known(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    paths = [
        write_csv("grades.csv", [GRADE_HEADER, GRADE_ROW]),
        write_csv("teachers.csv", [TEACHER_HEADER, TEACHER_ROW]),
    ]
    result = import_files(paths, known_teacher_ids=set(), now=samples.NOW)
    assert result.report.rejected == 0 and len(result.tables["grades"]) == 1


def test_several_problems_in_one_row_are_all_reported(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    row = ["T001", "S01", "大学", "数学", "-3"]
    result = _run(write_csv, samples.NOW, TEACHER_HEADER, row)
    assert {r.field for r in result.report.rejected_rows} == {"stage", "years_of_service"}
    assert result.report.rejected == 1
    assert result.quarantine["_fields"].tolist() == ["stage;years_of_service"]


def test_vocabularies_map_platform_spellings(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    paths = [
        write_csv("schools.csv", samples.SCHOOLS_ZH),
        write_csv("grades.csv", samples.GRADES_ZH),
        write_csv("teachers.csv", samples.TEACHERS_ZH),
    ]
    result = import_files(paths, now=samples.NOW)
    schools = result.tables["schools"]
    assert schools["urban_rural"].tolist() == ["urban", "rural"]
    assert schools["environment"].tolist() == ["smart", "multimedia"]
    assert schools["chosen_points"].tolist() == ["A1;B2;C4", "A1;A3"]
    assert schools["rollout_batch"].tolist() == [1, 2]
    grades = result.tables["grades"]
    assert grades["point"].tolist() == ["A1", "B2"]
    assert grades["assessed_at"].tolist() == [pd.Timestamp("2024-06-30")] * 2


def test_completion_export_becomes_enrol_and_complete_events(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    result = import_files([write_csv("c.csv", samples.COMPLETIONS_ZH)], now=samples.NOW)
    events = result.tables["events"].sort_values(["teacher_id", "timestamp"])
    assert events[["teacher_id", "event"]].values.tolist() == [
        ["T001", "enrol"],
        ["T001", "complete"],
        ["T002", "enrol"],
    ]
    assert events["event_id"].is_unique and events["value"].isna().all()
    assert result.report.accepted == 2


@pytest.mark.parametrize(
    ("event", "value", "expected_event", "expected_value"),
    [
        ("报名", "", "enrol", np.nan),
        ("学习中", "80%", "progress", 0.8),
        ("进度", "80", "progress", 0.8),
        ("progress", "0.25", "progress", 0.25),
        ("已完成", "", "complete", np.nan),
        ("评分", "5", "rate", 5.0),
    ],
)
def test_event_log_aliases_and_values(
    samples: SimpleNamespace,
    write_csv: Callable[..., Path],
    event: str,
    value: str,
    expected_event: str,
    expected_value: float,
) -> None:
    row = ["T001", "CRS-0001", event, value, "2024-03-05 10:00"]
    events = _run(write_csv, samples.NOW, LOG_HEADER, row).tables["events"]
    assert events["event"].tolist() == [expected_event]
    np.testing.assert_equal(events["value"].to_numpy(), [expected_value])


def test_event_ids_are_stable_across_runs(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("c.csv", samples.COMPLETIONS_ZH)
    first = import_files([path], now=samples.NOW).tables["events"]["event_id"].tolist()
    assert import_files([path], now=samples.NOW).tables["events"]["event_id"].tolist() == first


def test_default_research_group_is_built_from_stage_and_subject(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    teachers = _run(write_csv, samples.NOW, TEACHER_HEADER, TEACHER_ROW).tables["teachers"]
    assert teachers["research_group"].tolist() == ["小学数学组"]


def test_unique_point_name_alone_is_accepted(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    row = _with(GRADE_ROW, GRADE_HEADER, "能力点", "技术支持的课堂讲授")
    grades = _run(write_csv, samples.NOW, GRADE_HEADER, row).tables["grades"]
    assert grades["point"].tolist() == ["A6"]


def test_conflicting_grades_for_the_same_assessment_are_rejected(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [GRADE_HEADER, GRADE_ROW, _with(GRADE_ROW, GRADE_HEADER, "考核结果", "优秀")]
    result = import_files([write_csv("g.csv", rows)], now=samples.NOW)
    assert result.tables["grades"]["grade"].tolist() == ["合格"]
    assert [(r.row, r.field) for r in result.report.rejected_rows] == [(3, "teacher_id")]


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("1", 1.0),
        ("0", 0.0),
        (chr(65 + (SCENARIO.correct_option or 0)), 1.0),
        (chr(65 + ((SCENARIO.correct_option or 0) + 1) % 4).lower(), 0.0),
    ],
)
def test_scenario_answers_are_scored(
    samples: SimpleNamespace, write_csv: Callable[..., Path], answer: str, score: float
) -> None:
    row = _with(RESPONSE_ROW, RESPONSE_HEADER, "作答", answer)
    responses = _run(write_csv, samples.NOW, RESPONSE_HEADER, row).tables["responses"]
    assert responses["response"].tolist() == [score]


def test_self_rating_keeps_its_scale_value(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    responses = _run(write_csv, samples.NOW, RESPONSE_HEADER, RATING_ROW).tables["responses"]
    assert responses["response"].tolist() == [3.0]


def test_full_width_point_codes_are_accepted(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    row = _with(GRADE_ROW, GRADE_HEADER, "能力点", "Ｂ１０")
    assert _run(write_csv, samples.NOW, GRADE_HEADER, row).tables["grades"]["point"].tolist() == [
        "B10"
    ]
