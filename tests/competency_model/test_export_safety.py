"""Formula neutralisation shared by every exporter (issue 17, row 4)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from competency_model.export_safety import append_xlsx_row, markdown_cell, text_cell

FORMULAS = [
    '=HYPERLINK("http://evil.example/","教研组")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_text_cell_prefixes_formula_like_text(value: str) -> None:
    assert text_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["小学数学组", "A1 教研", "", 3.5, None])
def test_text_cell_keeps_ordinary_values(value: object) -> None:
    assert text_cell(value) == value


def test_text_cell_strips_control_characters() -> None:
    assert text_cell("组\x00\x01A") == "组A"


def test_markdown_cell_escapes_pipes_and_line_breaks() -> None:
    assert markdown_cell("=a|b\nc") == "'=a\\|b c"


# XML turns a bare CR into LF on reading, so "\r=1" is left to the CSV/Markdown cases.
@pytest.mark.parametrize("value", FORMULAS[:-1])
def test_xlsx_row_stores_formula_like_text_as_text(value: str) -> None:
    book = Workbook()
    append_xlsx_row(book.active, ["教研组", value, 2.5])
    buffer = io.BytesIO()
    book.save(buffer)

    row = next(load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows())

    assert (row[1].value, row[1].data_type) == (value, "s")
    assert row[1].quotePrefix
    assert (row[2].value, row[2].data_type) == (2.5, "n")


def test_xlsx_row_strips_characters_xml_cannot_hold() -> None:
    book = Workbook()
    append_xlsx_row(book.active, ["a\x00b\x1bc"])
    buffer = io.BytesIO()
    book.save(buffer)

    assert load_workbook(io.BytesIO(buffer.getvalue())).active["A1"].value == "abc"
