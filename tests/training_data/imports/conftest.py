"""Sample platform exports and fixtures that write them in a chosen encoding or as XLSX.

The suite runs with ``--import-mode=importlib``, so tests reach the samples through the
``samples`` fixture rather than by importing this module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

#: A fixed "now" so that future-date checks never depend on the day the tests run.
NOW = pd.Timestamp("2025-01-01 00:00:00")

TEACHERS_ZH = [
    ["教师编号", "姓名", "学校编号", "学段", "学科", "教龄"],
    ["T001", "张三", "S01", "小学", "数学", "12"],
    ["T002", "李四", "S01", "初中", "语文", "3"],
    ["T003", "王五", "S02", "高中", "物理", "25"],
]
SCHOOLS_ZH = [
    [
        "学校编号",
        "学校名称",
        "省份",
        "市",
        "区县",
        "城乡类型",
        "教学环境",
        "教师数",
        "选点",
        "推进批次",
    ],
    [
        "S01",
        "南京市第一中学",
        "江苏",
        "南京",
        "玄武区",
        "城区",
        "智慧学习环境",
        "120",
        "A1、B2、C4",
        "1",
    ],
    ["S02", "吴江乡村小学", "江苏", "苏州", "吴江区", "乡村", "A", "35", "A1;A3", "第二批"],
]
COMPLETIONS_ZH = [
    ["教师编号", "姓名", "课程编号", "课程名称", "学时", "报名时间", "完成时间"],
    [
        "T001",
        "张三",
        "CRS-0001",
        "用在线问卷开展课前学情诊断",
        "1",
        "2024-03-01 09:00",
        "2024-03-05 10:00",
    ],
    ["T002", "李四", "CRS-0002", "……", "1", "2024-03-02 08:00", ""],
]
GRADES_ZH = [
    ["教师编号", "能力点", "考核结果", "考核时间"],
    ["T001", "A1技术支持的学情分析", "优秀", "2024-06-30"],
    ["T002", "b2", "合格", "2024年6月30日"],
]


def to_bytes(rows: Sequence[Sequence[object]], encoding: str, delimiter: str = ",") -> bytes:
    """CSV text of ``rows`` encoded as ``encoding`` (``utf-8-sig`` writes the BOM)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def samples() -> SimpleNamespace:
    """The sample exports above plus ``to_bytes`` and the fixed ``NOW``."""
    return SimpleNamespace(
        NOW=NOW,
        TEACHERS_ZH=TEACHERS_ZH,
        SCHOOLS_ZH=SCHOOLS_ZH,
        COMPLETIONS_ZH=COMPLETIONS_ZH,
        GRADES_ZH=GRADES_ZH,
        to_bytes=to_bytes,
    )


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv(name, rows, encoding="utf-8")`` → path of the written file."""

    def write(
        name: str, rows: Sequence[Sequence[object]], encoding: str = "utf-8", delimiter: str = ","
    ) -> Path:
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(to_bytes(rows, encoding, delimiter))
        return path

    return write


@pytest.fixture
def write_xlsx(tmp_path: Path) -> Callable[..., Path]:
    """``write_xlsx(name, {sheet: rows})`` → path of the written workbook."""
    from openpyxl import Workbook

    def write(name: str, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
        workbook = Workbook()
        workbook.remove(workbook.active)
        for title, rows in sheets.items():
            sheet = workbook.create_sheet(title)
            for row in rows:
                sheet.append(list(row))
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        workbook.save(path)
        return path

    return write
