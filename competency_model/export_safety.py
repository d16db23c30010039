"""Cell values that are safe to open in a spreadsheet: no live formulas, no illegal characters.

Teachers, schools and platforms type the text that ends up in exported files (a 教研组 name, an
evidence title). A value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
run as a formula by Excel and WPS when the file is opened (CSV/formula injection, OWASP), and
control characters make openpyxl refuse the whole workbook. Every exporter (portfolio XLSX,
school plan XLSX and Markdown, CSV) passes its text cells through this one module:

* :func:`xlsx_cell` / :func:`append_xlsx_row` keep the text exactly but store it as a string
  cell (never a formula) with Excel's quote prefix, so editing the cell does not revive it;
* :func:`text_cell` (CSV and Markdown) prefixes such a value with ``'``, the convention
  spreadsheets show as "text";
* both strip the control characters that XML 1.0 cannot carry.

>>> text_cell('=HYPERLINK("http://evil.example/","x")')
'\\'=HYPERLINK("http://evil.example/","x")'
>>> text_cell("小学数学组")
'小学数学组'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "FORMULA_PREFIXES",
    "append_xlsx_row",
    "is_formula_like",
    "markdown_cell",
    "strip_control_characters",
    "text_cell",
]

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 (and so XLSX) cannot hold: C0 controls except tab, LF and CR.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def strip_control_characters(value: str) -> str:
    """``value`` without the control characters an XLSX file cannot hold."""
    return _ILLEGAL.sub("", value)


def is_formula_like(value: object) -> bool:
    """True for text a spreadsheet would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def text_cell(value: Any) -> Any:
    """A CSV cell: formula-like text gets a leading ``'``; numbers and ``None`` pass unchanged."""
    if not isinstance(value, str):
        return value
    clean = strip_control_characters(value)
    return "'" + clean if is_formula_like(clean) else clean


def markdown_cell(value: Any) -> str:
    """A Markdown table cell: :func:`text_cell`, with ``|`` escaped and line breaks flattened."""
    text = "" if value is None else str(text_cell(value))
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def append_xlsx_row(sheet: Any, row: Iterable[Any]) -> None:
    """Append ``row`` to an openpyxl worksheet with every text cell stored as text.

    openpyxl turns a string starting with ``=`` into a formula; here such a cell is forced back
    to a string cell and marked with the quote prefix, so the value reads exactly as typed.
    """
    values = [strip_control_characters(v) if isinstance(v, str) else v for v in row]
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if is_formula_like(cell.value) or cell.data_type == "f":
            cell.data_type = "s"
            cell.quotePrefix = True
