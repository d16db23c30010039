"""Write the export-dialect corpus the import tests read (run from the repository root).

    python tests/training_data/imports/dialects/make_dialects.py

Each folder is one dialect a provincial or city platform really produces; the files are
checked in so the tests need no writer libraries (``.xls`` needs ``xlwt``, a dev dependency).
The same script writes the small platform export under ``examples/exports/`` (GBK and UTF-8).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[3] / "examples" / "exports"

SCHOOLS = [
    ["学校编号", "学校名称", "城乡类型", "教学环境", "选点"],
    ["S01", "南京市第一中学", "城区", "智慧学习环境", "A1、B2、C4"],
    ["S02", "吴江乡村小学", "乡村", "A", ""],
]
TEACHERS = [
    ["教师编号", "姓名", "学校编号", "学段", "学科", "教龄"],
    ["T001", "张三", "S01", "初中", "信息技术", "12"],
    ["T002", "李四", "S01", "小学", "思想政治", "3"],
    ["T003", "王五", "S02", "小学", "数学", "25"],
    ["T004", "赵六", "S02", "小学", "书法", "7"],
]
RECORDS = [
    ["教师编号", "姓名", "课程编号", "课程名称", "学习状态", "学习时长", "报名时间", "完成时间"],
    [
        "T001",
        "张三",
        "CRS-0001",
        "学情诊断",
        "已完成",
        "90分钟",
        "2024-03-01 09:00",
        "2024-03-05 10:00",
    ],
    [
        "T001",
        "张三",
        "CRS-0002",
        "问卷设计",
        "学习中",
        "30分钟",
        "2024-03-02 08:00",
        "2024-03-06 10:00",
    ],
    ["T002", "李四", "CRS-0003", "微课制作", "未开始", "0分钟", "2024-03-02 08:00", ""],
    [
        "T003",
        "王五",
        "CRS-0001",
        "学情诊断",
        "已学完",
        "95分钟",
        "2024-03-03 08:00",
        "2024-03-09 10:00",
    ],
    [
        "T004",
        "赵六",
        "CRS-0004",
        "资源整合",
        "进行中",
        "20分钟",
        "2024-03-04 08:00",
        "2024-03-08 10:00",
    ],
]
GRADES = [
    ["教师编号", "能力点", "考核结果"],
    ["T001", "A1", "优秀"],
    ["T002", "B2", "合格"],
    ["T003", "A1", "合格"],
    ["T003", "A3", "合格"],
]


def _csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))


def gbk(out: Path) -> None:
    """Excel on Chinese Windows: GBK, four files, no region/教师数/推进批次/考核日期."""
    for name, rows in (
        ("学校.csv", SCHOOLS),
        ("教师.csv", TEACHERS),
        ("学习记录.csv", RECORDS),
        ("考核结果.csv", GRADES),
    ):
        _csv(out / name, rows, "gbk")


def utf8_bom(out: Path) -> None:
    """A web platform: UTF-8 with BOM, same four tables."""
    for name, rows in (
        ("学校.csv", SCHOOLS),
        ("教师.csv", TEACHERS),
        ("学习记录.csv", RECORDS),
        ("考核结果.csv", GRADES),
    ):
        _csv(out / name, rows, "utf-8-sig")


def english(out: Path) -> None:
    """An English-header export with English values and a status column."""
    _csv(
        out / "teachers.csv",
        [
            ["teacher_id", "school", "stage", "subject"],
            ["E001", "S01", "junior", "math"],
            ["E002", "S01", "primary", "english"],
        ],
        "utf-8",
    )
    _csv(
        out / "records.csv",
        [
            ["teacher_id", "course_id", "status", "completed_at"],
            ["E001", "CRS-0001", "completed", "2024-04-01"],
            ["E002", "CRS-0002", "in progress", "2024-04-02"],
        ],
        "utf-8",
    )


def partial(out: Path) -> None:
    """Teachers, records and grades, no schools file (选点 and schools must be inferred)."""
    _csv(out / "教师.csv", TEACHERS, "utf-8")
    _csv(out / "学习记录.csv", RECORDS, "utf-8")
    _csv(out / "考核结果.csv", [*GRADES[:1], *[r + [] for r in GRADES[1:]]], "utf-8")


def mapped(out: Path) -> None:
    """A dialect no alias covers, read through a mapping file."""
    _csv(
        out / "人员.csv",
        [
            ["工作证号", "单位代码", "学部", "任课"],
            ["M001", "S01", "初中", "数学"],
            ["M002", "S01", "高中", "信息科技"],
        ],
        "utf-8",
    )
    _csv(
        out / "进展.csv",
        [
            ["工作证号", "课件号", "进展", "结束于"],
            ["M001", "CRS-0001", "通过", "2024-05-01"],
            ["M002", "CRS-0002", "挂起", ""],
        ],
        "utf-8",
    )
    mapping = {
        "files": {
            "人员.csv": {
                "table": "teachers",
                "columns": {
                    "工作证号": "teacher_id",
                    "单位代码": "school_id",
                    "学部": "stage",
                    "任课": "subject",
                },
            },
            "进展.csv": {
                "table": "events",
                "columns": {
                    "工作证号": "teacher_id",
                    "课件号": "item_id",
                    "进展": "state",
                    "结束于": "completed_at",
                },
                "values": {"state": {"通过": "已完成", "挂起": "学习中"}},
            },
        }
    }
    (out / "map.json").write_text(
        json.dumps(mapping, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def xlsx_titles(out: Path) -> None:
    """One workbook, two sheets, a title row and merged header cells."""
    from openpyxl import Workbook

    book = Workbook()
    teachers = book.active
    teachers.title = "教师"
    teachers.append(["2024年教师名单（南京市）"])
    teachers.merge_cells("A1:E1")
    for row in TEACHERS:
        teachers.append(row)
    records = book.create_sheet("学习记录")
    records.append(["南京市教师学习记录"])
    records.merge_cells("A1:F1")
    records.append(["教师编号", "课程编号", "学习情况", None, None, "备注"])
    records.append([None, None, "学习状态", "学习进度", "完成时间", None])
    records.merge_cells("A2:A3")
    records.merge_cells("B2:B3")
    records.merge_cells("C2:E2")
    records.merge_cells("F2:F3")
    records.append(["T001", "CRS-0001", "已完成", "100%", "2024-03-05 10:00", ""])
    records.append(["T002", "CRS-0002", "学习中", "40%", "", "补学"])
    out.mkdir(parents=True, exist_ok=True)
    book.save(out / "平台导出.xlsx")


def xls(out: Path) -> None:
    """Legacy .xls (BIFF8), as older platforms still export."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("教师名单")
    for r, row in enumerate(TEACHERS):
        for c, value in enumerate(row):
            sheet.write(r, c, int(value) if value.isdigit() and c == 5 else value)
    grades = book.add_sheet("考核结果")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    import datetime as dt

    for c, value in enumerate(["教师编号", "能力点", "考核结果", "考核日期"]):
        grades.write(0, c, value)
    for r, (teacher, point, grade) in enumerate(
        [("T001", "A1", "优秀"), ("T003", "A3", "合格")], 1
    ):
        grades.write(r, 0, teacher)
        grades.write(r, 1, point)
        grades.write(r, 2, grade)
        grades.write(r, 3, dt.date(2024, 6, 30), date_style)
    out.mkdir(parents=True, exist_ok=True)
    book.save(str(out / "教师名单.xls"))


def examples() -> None:
    """The small platform export of examples/exports/, in GBK and in UTF-8."""
    for folder, encoding in (("gbk", "gbk"), ("utf8", "utf-8-sig")):
        for name, rows in (
            ("学校.csv", SCHOOLS),
            ("教师.csv", TEACHERS),
            ("学习记录.csv", RECORDS),
            ("考核结果.csv", GRADES),
        ):
            _csv(EXAMPLES / folder / name, rows, encoding)


DIALECTS = {
    "gbk": gbk,
    "utf8_bom": utf8_bom,
    "english": english,
    "partial": partial,
    "mapping": mapped,
    "xlsx_titles": xlsx_titles,
    "xls": xls,
}

if __name__ == "__main__":
    for name, write in DIALECTS.items():
        if name == "xls" and "--no-xls" in sys.argv:
            continue
        write(HERE / name)
    examples()
    print(f"wrote {len(DIALECTS)} dialects under {HERE} and the examples under {EXAMPLES}")
