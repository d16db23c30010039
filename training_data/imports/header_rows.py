"""Find the header of an export among its first rows, across title rows and merged cells.

Platforms put a title (``南京市教师学习记录（2024年）``) above the header and group columns under
merged cells (``学习情况`` over 状态/进度/完成时间, ``教师编号`` merged over two header rows). A merged
cell keeps its value in its first cell only, in a workbook as in a CSV saved from it, so the
header is rebuilt from up to three rows: the first row naming at least two known columns, the
row above it for cells left empty by a vertical merge, and the row below it when that row holds
the sub-headers of a group.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from competency_model.errors import ImportRowError
from training_data.imports.headers import is_known_header, recognised_count

__all__ = ["HEADER_SEARCH_ROWS", "HeaderRows", "find_header"]

#: How many rows from the top may hold the header (title rows above it are skipped).
HEADER_SEARCH_ROWS = 10
#: A header must name at least this many known columns; protects against title rows.
_MIN_RECOGNISED = 2


@dataclass(frozen=True)
class HeaderRows:
    """The rebuilt header and where the data starts (0-based indexes into the rows)."""

    headers: list[str]
    header_index: int
    data_start: int


def _cell(row: Sequence[str], column: int) -> str:
    return row[column].strip() if column < len(row) else ""


def find_header(rows: list[list[str]], path: Path, extra: Collection[str] = ()) -> HeaderRows:
    """Locate and rebuild the header of ``rows`` (the first rows of a file or sheet).

    Raises
    ------
    ImportRowError
        If none of the first :data:`HEADER_SEARCH_ROWS` rows names two known columns.
    """
    index = next(
        (
            i
            for i, row in enumerate(rows[:HEADER_SEARCH_ROWS])
            if recognised_count(row, extra) >= _MIN_RECOGNISED
        ),
        None,
    )
    if index is None:
        first = rows[0] if rows else []
        raise ImportRowError(
            f"{path.name}: no header row found in the first {HEADER_SEARCH_ROWS} rows "
            f"(first row: {first[:8]}); the header must name columns such as 教师编号/teacher_id, "
            "学校编号, 课程编号, 能力点, 考核结果 — or give a mapping file (--mapping); see "
            "docs/data-formats.md",
            details={"file": str(path)},
        )
    width = max(len(r) for r in rows[index : index + 2])
    headers = [_cell(rows[index], c) for c in range(width)]
    if index > 0:  # a vertical merge leaves the header cell empty below its value
        above = rows[index - 1]
        for column, header in enumerate(headers):
            if not header and is_known_header(_cell(above, column), extra):
                headers[column] = _cell(above, column)
    data_start = index + 1
    if index + 1 < len(rows):
        below = rows[index + 1]
        known = [c for c in range(width) if is_known_header(headers[c], extra)]
        subheaders = [
            c
            for c in range(width)
            if is_known_header(_cell(below, c), extra) and not is_known_header(headers[c], extra)
        ]
        # Sub-headers sit only under group labels or empty cells; a data row fills the ids.
        if subheaders and all(not _cell(below, c) for c in known):
            for column in subheaders:
                headers[column] = _cell(below, column)
            data_start = index + 2
    return HeaderRows(headers, index, data_start)
