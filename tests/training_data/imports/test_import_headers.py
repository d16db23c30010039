"""Header mapping (Chinese/English, units, priorities, privacy) and table detection."""

from __future__ import annotations

import pytest

from training_data.imports.headers import REQUIRED_COLUMNS, clean_header, detect_table, map_headers


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("教师编号", "teacher_id"),
        ("教师ID", "teacher_id"),
        ("教师id", "teacher_id"),
        ("teacher_id", "teacher_id"),
        ("Teacher ID", "teacher_id"),
        ("工号", "teacher_id"),
        ("学校", "school_id"),
        ("学校编号", "school_id"),
        ("school_id", "school_id"),
        ("学段", "stage"),
        ("学科", "subject"),
        ("任教学科", "subject"),
        ("课程编号", "item_id"),
        ("course_id", "item_id"),
        ("学时", "hours"),
        ("学时（小时）", "hours"),
        ("学时(h)", "hours"),
        ("完成时间", "completed_at"),
        ("报名时间", "enrolled_at"),
        ("能力点", "point"),
        ("微能力点", "point"),
        ("考核结果", "grade"),
        ("考核时间", "assessed_at"),
        ("教龄", "years_of_service"),
        ("城乡类型", "urban_rural"),
        ("教学环境", "environment"),
        ("选点", "chosen_points"),
        ("推进批次", "rollout_batch"),
        ("题号", "question_id"),
        ("得分", "response"),
        ("\ufeff教师编号", "teacher_id"),
        ("  学 段 ", "stage"),
        ("ＳＣＨＯＯＬ＿ＩＤ", "school_id"),
    ],
)
def test_header_maps_to_its_canonical_column(header: str, canonical: str) -> None:
    mapping, _, _ = map_headers([header])
    assert mapping == {0: canonical}


def test_specific_alias_beats_generic_one_in_either_order() -> None:
    for headers in (["学校", "学校编号"], ["学校编号", "学校"]):
        mapping, _, ignored = map_headers(headers)
        assert mapping == {headers.index("学校编号"): "school_id"}
        assert ignored == ["学校"]


@pytest.mark.parametrize("header", ["姓名", "教师姓名", "身份证号", "手机号", "name"])
def test_personal_columns_are_dropped_and_reported(header: str) -> None:
    mapping, private, _ = map_headers(["教师编号", header])
    assert list(mapping.values()) == ["teacher_id"]
    assert private == [header]


def test_unknown_columns_are_ignored_and_reported() -> None:
    mapping, _, ignored = map_headers(["教师编号", "备注", ""])
    assert mapping == {0: "teacher_id"} and ignored == ["备注"]


@pytest.mark.parametrize(
    ("columns", "table"),
    [
        (["teacher_id", "school_id", "stage", "subject", "years_of_service"], "teachers"),
        (["school_id", "region", "environment"], "schools"),
        (["teacher_id", "item_id", "completed_at"], "events"),
        (["teacher_id", "point", "grade", "assessed_at"], "grades"),
        (["teacher_id", "question_id", "response"], "responses"),
        (["teacher_id"], None),
        (["school_id", "teacher_id", "environment"], None),
    ],
)
def test_table_is_detected_from_columns(columns: list[str], table: str | None) -> None:
    assert detect_table(columns) == table


def test_every_required_column_has_chinese_aliases() -> None:
    mapped = {
        c
        for h in (
            "教师编号",
            "学校编号",
            "学段",
            "学科",
            "教龄",
            "省份",
            "市",
            "区县",
            "城乡类型",
            "教学环境",
            "教师数",
            "推进批次",
            "课程编号",
            "能力点",
            "考核结果",
            "考核时间",
            "题号",
            "作答",
        )
        for c in map_headers([h])[0].values()
    }
    assert {c for cols in REQUIRED_COLUMNS.values() for c in cols} <= mapped


def test_clean_header_drops_units_and_case() -> None:
    assert clean_header("学时（小时）") == clean_header("学时") == "学时"
    assert clean_header("Completed_At") == "completedat"
