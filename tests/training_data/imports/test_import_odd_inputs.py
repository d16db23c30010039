"""Odd bytes and layouts: bare CR, a lone CR in a field, binary files, two-row headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from competency_model.errors import ImportRowError
from competency_model.province import read_province
from service.cli.main import app
from training_data.imports import import_files, load_mapping

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


def test_bare_cr_line_endings_are_lines(samples: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("教师编号,学校编号,学段,学科\rT1,S1,小学,数学\rT2,S1,初中,语文\r".encode())
    result = import_files([path], now=samples.NOW)
    assert result.tables["teachers"]["teacher_id"].tolist() == ["T1", "T2"]


def test_lone_cr_in_a_field_is_a_row_error_or_a_file_error(
    samples: SimpleNamespace, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("教师编号,学校编号,学段,学科\nT1,S1,小\r学,数学\nT2,S1,初中,语文\n".encode())
    try:
        result = import_files([path], now=samples.NOW)
    except ImportRowError as error:  # a clear file error is acceptable; a crash is not
        assert "CSV" in error.message
    else:
        assert result.report.rejected >= 1
        assert "T2" in set(result.tables["teachers"]["teacher_id"])


@pytest.mark.parametrize(("body", "words"), [(PNG, "PNG image"), (b"abc\x00def\n", "binary data")])
def test_binary_bytes_named_csv_are_refused_saying_what_they_are(
    tmp_path: Path, body: bytes, words: str
) -> None:
    path = tmp_path / "teachers.csv"
    path.write_bytes(body)
    with pytest.raises(ImportRowError, match=words):
        import_files([path])


def test_group_header_row_with_sub_headers_below_in_a_csv(
    samples: SimpleNamespace, write_csv: Callable[..., Path]
) -> None:
    rows = [
        ["教师编号", "课程编号", "学习情况", ""],
        ["", "", "学习状态", "完成时间"],
        ["T1", "CRS-0001", "已完成", "2024-03-05"],
    ]
    result = import_files([write_csv("r.csv", rows)], now=samples.NOW)
    assert result.report.files[0].header_row == 2
    assert result.tables["events"]["event"].tolist() == ["complete"]
    assert result.report.rejected_rows == []


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"files": {"a.csv": {"columns": {"X": "no_such_field"}}}}, "files.a.csv.columns"),
        ({"files": {"a.csv": {"table": "people"}}}, "files.a.csv.table"),
        ({"files": {"a.csv": {"colums": {}}}}, "files.a.csv.colums"),
        ({"files": {}}, "files"),
    ],
)
def test_bad_mapping_file_names_the_key(tmp_path: Path, document: dict, key: str) -> None:  # type: ignore[type-arg]
    path = tmp_path / "map.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ImportRowError, match=key.replace(".", r"\.")) as info:
        load_mapping(path)
    assert info.value.details["field"] == key


def test_inspect_shows_the_plan_and_writes_nothing(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [
        ["教师编号", "课程编号", "学习状态", "学习时长"],
        ["T1", "CRS-0001", "学习中", "30分钟"],
    ]
    path = write_csv("r.csv", rows)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["import", str(path), "--inspect", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "r.csv: read as events" in result.output
    assert "学习状态 → state" in result.output
    assert "学习时长 → (UNMAPPED" in result.output
    assert "event=progress" in result.output
    assert "学习时长" in result.output.split("r.csv: read as")[1]  # the warning, with the values
    assert not out.exists()


def test_cli_summary_starts_with_the_warnings(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [
        ["教师编号", "学校编号", "学段", "学科", "在职状态"],
        ["T1", "S1", "小学", "数学", "在职"],
    ]
    result = CliRunner().invoke(
        app, ["import", str(write_csv("t.csv", rows)), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("⚠ t.csv: 列“在职状态”")


def test_cli_options_fill_region_and_undated_grades(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    write_csv("学校.csv", [["学校编号", "教学环境"], ["S01", "C"]])
    folder = write_csv(
        "考核.csv", [["教师编号", "能力点", "考核结果"], ["T001", "A1", "优秀"]]
    ).parent
    write_csv("教师.csv", samples.TEACHERS_ZH)
    out = tmp_path / "out"
    args = ["import", str(folder), "--out", str(out), "--region", "江苏", "--city", "南京"]
    result = CliRunner().invoke(app, [*args, "--export-date", "2024-07-01"])
    assert result.exit_code == 0, result.output
    assert "schools.region option = 江苏" in result.output
    province = read_province(out)
    assert province.schools.set_index("school_id").loc["S01", ["region", "city"]].tolist() == [
        "江苏",
        "南京",
    ]
    assert province.grades["assessed_at"].tolist() == [pd.Timestamp("2024-07-01")]


def test_cli_refuses_a_bad_mapping_file_before_reading(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text('{"files": {"*": {"columns": {"X": "nonsense"}}}}', encoding="utf-8")
    path = write_csv("t.csv", [["a"], ["1"]])
    result = CliRunner().invoke(app, ["import", str(path), "--inspect", "--mapping", str(mapping)])
    assert isinstance(result.exception, ImportRowError)
    assert "files.*.columns" in result.exception.message
