"""The export-dialect corpus (dialects/, written by make_dialects.py) imports with no hand edits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from competency_model.province import read_province
from training_data.imports import ImportOptions, import_files, load_mapping, write_import

DIALECTS = Path(__file__).parent / "dialects"
EXAMPLES = Path(__file__).parents[3] / "examples" / "exports"
NOW = pd.Timestamp("2025-01-01")
OPTIONS = ImportOptions(region="江苏", export_date=dt.date(2024, 7, 1))


def _import(folder: Path, **changes: object):  # type: ignore[no-untyped-def]
    options = OPTIONS.model_copy(update=changes)
    return import_files([folder], now=NOW, options=options)


@pytest.mark.parametrize("dialect", ["gbk", "utf8_bom"])
def test_four_file_export_imports_in_either_encoding(dialect: str) -> None:
    result = _import(DIALECTS / dialect)
    codes = result.report.warning_codes()
    assert result.report.rejected == 0
    assert {"unmapped_column", "completion_rule", "unknown_subject", "assessed_at_inferred"} <= set(
        codes
    )
    assert codes[0] == "unmapped_column"  # the warnings a person must see come first
    assert sorted(result.tables) == ["events", "grades", "schools", "teachers"]
    assert set(result.tables["schools"]["region"]) == {"江苏"}


def test_gbk_and_utf8_give_the_same_tables() -> None:
    gbk, utf8 = _import(DIALECTS / "gbk"), _import(DIALECTS / "utf8_bom")
    for table in gbk.tables:
        pd.testing.assert_frame_equal(gbk.tables[table], utf8.tables[table])


def test_legacy_xls_workbook_is_read_with_its_dates() -> None:
    result = _import(DIALECTS / "xls")
    assert result.report.rejected == 0
    assert len(result.tables["teachers"]) == 4
    assert set(result.tables["grades"]["assessed_at"]) == {pd.Timestamp("2024-06-30")}
    assert not result.tables["grades"]["assessed_at_inferred"].any()


def test_xlsx_with_title_rows_and_merged_headers_is_read_sheet_by_sheet() -> None:
    result = _import(DIALECTS / "xlsx_titles")
    files = {f.file: f for f in result.report.files}
    records = files["平台导出.xlsx[学习记录]"]
    assert records.table == "events" and records.header_row == 3 and records.rejected == 0
    assert records.columns == {
        "教师编号": "teacher_id",
        "课程编号": "item_id",
        "学习状态": "state",
        "学习进度": "value",
        "完成时间": "completed_at",
    }
    events = result.tables["events"]
    assert events.loc[events["teacher_id"] == "T002", "event"].tolist() == ["progress"]
    assert events.loc[events["teacher_id"] == "T002", "value"].tolist() == [0.4]


def test_english_headers_and_values_are_read() -> None:
    result = _import(DIALECTS / "english")
    events = result.tables["events"].set_index("teacher_id")["event"]
    assert events.to_dict() == {"E001": "complete", "E002": "progress"}
    assert set(result.tables["teachers"]["subject"]) == {"数学", "英语"}
    assert "timestamp_inferred" in result.report.warning_codes()


def test_missing_optional_columns_are_defaulted_and_reported() -> None:
    result = _import(DIALECTS / "gbk")
    derived = {(d.table, d.field, d.how) for d in result.report.derived}
    assert {
        ("schools", "region", "option"),
        ("schools", "rollout_batch", "default"),
        ("grades", "assessed_at", "inferred"),
    } <= derived
    schools = result.tables["schools"].set_index("school_id")
    assert schools["n_teachers"].to_dict() == {"S01": 2, "S02": 2}
    assert schools["rollout_batch"].eq(0).all()


def test_mapping_file_reads_a_dialect_no_alias_covers() -> None:
    folder = DIALECTS / "mapping"
    result = _import(folder, mapping=load_mapping(folder / "map.json"))
    assert result.report.rejected == 0
    events = result.tables["events"].set_index("teacher_id")["event"]
    assert events.to_dict() == {"M001": "complete", "M002": "progress"}
    assert result.tables["teachers"].set_index("teacher_id")["subject"]["M002"] == "信息技术"


def test_partial_province_gets_inferred_schools_and_chosen_points(tmp_path: Path) -> None:
    result = _import(DIALECTS / "partial")
    assert {"schools_inferred", "chosen_points_inferred"} <= set(result.report.warning_codes())
    write_import(result, tmp_path / "p")
    schools = read_province(tmp_path / "p").schools.set_index("school_id")
    assert schools["school_inferred"].all()
    assert schools["chosen_points_inferred"].all()
    assert schools.loc["S02", "chosen_points"] == "A1;A3"


@pytest.mark.parametrize("encoding", ["gbk", "utf8"])
def test_shipped_example_export_imports_as_is(encoding: str, tmp_path: Path) -> None:
    result = import_files([EXAMPLES / encoding], options=ImportOptions(region="江苏"))
    report = write_import(result, tmp_path / encoding)
    assert report.rejected == 0 and report.inserted["teachers"] == 4
