"""Reading exports: encodings from bytes, XLSX, title rows, delimiters, chunked row numbers."""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from competency_model.errors import ImportRowError
from training_data.imports import detect_encoding, import_files
from training_data.imports import sources as sources_module
from training_data.imports.sources import open_sources


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_encoding_is_detected_from_bytes(
    samples: SimpleNamespace, encoding: str, expected: str
) -> None:
    assert detect_encoding(samples.to_bytes(samples.TEACHERS_ZH, encoding)) == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_every_encoding_imports_the_same_teachers(
    samples: SimpleNamespace, write_csv: Callable[..., Path], encoding: str
) -> None:
    path = write_csv("teachers.csv", samples.TEACHERS_ZH, encoding)
    result = import_files([path], now=samples.NOW)
    teachers = result.tables["teachers"]
    assert teachers["teacher_id"].tolist() == ["T001", "T002", "T003"]
    assert teachers["stage"].tolist() == ["小学", "初中", "高中"]
    assert teachers["subject"].tolist() == ["数学", "语文", "物理"]


@pytest.mark.parametrize(("name", "encoding"), [("教师_utf8.csv", "gbk"), ("gbk导出.csv", "utf-8")])
def test_file_name_does_not_decide_the_encoding(
    samples: SimpleNamespace, write_csv: Callable[..., Path], name: str, encoding: str
) -> None:
    result = import_files([write_csv(name, samples.TEACHERS_ZH, encoding)], now=samples.NOW)
    assert result.tables["teachers"]["subject"].tolist() == ["数学", "语文", "物理"]


def test_bom_is_not_part_of_the_first_header(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["teacher_id", "school_id", "stage", "subject", "years_of_service"],
        ["T9", "S9", "primary", "数学", "4"],
    ]
    result = import_files([write_csv("t.csv", rows, "utf-8-sig")], now=samples.NOW)
    assert result.tables["teachers"]["teacher_id"].tolist() == ["T9"]


def test_tab_separated_export_is_read(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    result = import_files([write_csv("t.txt", samples.TEACHERS_ZH, "utf-8", "\t")], now=samples.NOW)
    assert len(result.tables["teachers"]) == 3


def test_title_rows_above_the_header_are_skipped_and_rows_keep_file_numbers(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [["南京市教师名单（2024年）"], [], *samples.TEACHERS_ZH]
    rows[4] = ["T001", "张三", "S01", "大学", "数学", "12"]  # file row 5 is bad
    result = import_files([write_csv("t.csv", rows)], now=samples.NOW)
    assert result.report.files[0].header_row == 3
    assert [(r.row, r.field) for r in result.report.rejected_rows] == [(5, "stage")]


def test_blank_lines_are_skipped_without_shifting_row_numbers(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [
        samples.TEACHERS_ZH[0],
        samples.TEACHERS_ZH[1],
        [],
        ["T009", "x", "S01", "小学", "数学", "x"],
    ]
    result = import_files([write_csv("t.csv", rows)], now=samples.NOW)
    assert [(r.row, r.field) for r in result.report.rejected_rows] == [(4, "years_of_service")]


def test_row_numbers_stay_right_across_chunks(
    samples: SimpleNamespace, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_module, "CHUNK_ROWS", 3)
    rows = [samples.TEACHERS_ZH[0]] + [
        [f"T{i:03d}", "", "S01", "小学", "数学", "5"] for i in range(10)
    ]
    rows[8][3] = "大学"  # data row index 8 → file row 9
    result = import_files([write_csv("t.csv", rows)], now=samples.NOW)
    assert [r.row for r in result.report.rejected_rows] == [9]
    assert len(result.tables["teachers"]) == 9


def test_xlsx_sheets_dates_and_numeric_ids(
    samples: SimpleNamespace, write_xlsx: Callable[..., Path]
) -> None:
    teachers = [
        ["教师编号", "学校编号", "学段", "学科", "教龄"],
        [20230001, "S01", "小学", "数学", 7],
    ]
    grades = [
        ["教师编号", "能力点", "考核结果", "考核时间"],
        [20230001, "A1", "合格", dt.datetime(2024, 6, 30, 15, 0)],
    ]
    path = write_xlsx("export.xlsx", {"教师": teachers, "考核": grades, "Sheet3": []})
    result = import_files([path], now=samples.NOW)
    assert result.tables["teachers"]["teacher_id"].tolist() == ["20230001"]
    assert str(result.tables["grades"]["assessed_at"].iloc[0]) == "2024-06-30 15:00:00"
    assert {f.file for f in result.report.files} == {"export.xlsx[教师]", "export.xlsx[考核]"}


def test_xlsx_with_a_csv_name_is_still_read_as_a_workbook(
    samples: SimpleNamespace, write_xlsx: Callable[..., Path]
) -> None:
    path = write_xlsx("export.xlsx", {"教师": samples.TEACHERS_ZH})
    renamed = path.rename(path.with_name("export.csv"))
    assert len(import_files([renamed], now=samples.NOW).tables["teachers"]) == 3


def test_legacy_xls_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(ImportRowError, match=r"\.xlsx"):
        open_sources(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportRowError, match="empty"):
        open_sources(path)


def test_mixed_encoding_past_the_sample_is_reported(
    samples: SimpleNamespace, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_module, "_SAMPLE_BYTES", 64)
    path = write_csv("t.csv", samples.TEACHERS_ZH[:1] + [["T1", "", "S1", "小学", "数学", "1"]] * 3)
    with path.open("ab") as handle:
        handle.write("T9,,S1,小学,语文,1\n".encode("gbk"))
    with pytest.raises(ImportRowError, match="not valid utf-8"):
        import_files([path], now=samples.NOW)


def test_undecodable_bytes_fall_back_to_a_detector_or_fail_clearly() -> None:
    noise = bytes(range(128, 256)) * 4
    try:
        encoding = detect_encoding(noise)
    except ImportRowError as error:
        assert "UTF-8" in error.message
    else:
        assert codecs.lookup(encoding)


def test_headerless_file_is_refused(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    with pytest.raises(ImportRowError, match="no header row"):
        import_files([write_csv("x.csv", [["a", "b"], ["1", "2"]])], now=samples.NOW)
