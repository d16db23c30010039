"""Workbook exports: ``.xlsx`` (openpyxl, streamed) and legacy ``.xls`` (xlrd), sheet by sheet.

Every non-empty sheet is a source of its own (``book.xlsx[学习记录]``), so a workbook holding the
teachers and the records in two sheets imports in one go. Cells become the same text a CSV
would hold: dates as ISO strings, whole numbers without ``.0``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from competency_model.errors import ImportRowError
from training_data.imports.header_rows import HEADER_SEARCH_ROWS, find_header
from training_data.imports.source_types import CHUNK_ROWS, Chunk, SharedCloser, Source

__all__ = ["cell_text", "xls_sources", "xlsx_sources"]


def cell_text(value: object) -> str:
    """The text a CSV would hold for a workbook cell."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _chunks(
    buffered: list[list[str]], rest: Iterator[list[str]], first_row: int, width: int
) -> Iterator[Chunk]:
    def emit(rows: list[list[str]], start: int) -> Chunk:
        padded = [(row + [""] * width)[:width] for row in rows]
        frame = pd.DataFrame(padded, columns=list(range(width)), dtype=str)
        return Chunk(frame, np.arange(start, start + len(rows)))

    block = list(buffered)
    start = first_row
    for row in rest:
        block.append(row)
        if len(block) >= CHUNK_ROWS:
            yield emit(block, start)
            start += len(block)
            block = []
    if block:
        yield emit(block, start)


def _sheet_source(
    path: Path,
    title: str,
    rows: Iterator[list[str]],
    extra: Collection[str],
    make_close: Callable[[], Callable[[], None]],
) -> Source | None:
    preview: list[list[str]] = []
    for row in rows:
        preview.append(row)
        if len(preview) >= HEADER_SEARCH_ROWS:
            break
    if not any(any(cell for cell in row) for row in preview):
        return None  # an empty sheet (e.g. the default Sheet2) is not an error
    found = find_header(preview, path, extra)
    return Source(
        path,
        f"{path.name}[{title}]",
        found.headers,
        found.data_start,
        None,
        _chunks(preview[found.data_start :], rows, found.data_start + 1, len(found.headers)),
        make_close(),
    )


def xlsx_sources(path: Path, extra: Collection[str] = ()) -> list[Source]:
    """One source per non-empty sheet of an ``.xlsx`` workbook (streamed, read-only)."""
    from openpyxl import load_workbook  # imported lazily: only workbook imports pay for it

    handle = path.open("rb")  # a file object, because openpyxl would refuse a non-.xlsx name
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a corrupt archive
        handle.close()
        raise ImportRowError(
            f"{path.name}: not a readable .xlsx workbook ({error})", details={"file": str(path)}
        ) from error
    sources = []
    shared = SharedCloser(functools.partial(_close_workbook, workbook, handle))
    for sheet in workbook.worksheets:
        rows = ([cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
        source = _sheet_source(path, sheet.title, rows, extra, shared.handle)
        if source is not None:
            sources.append(source)
    if not sources:
        _close_workbook(workbook, handle)
    return sources


def _close_workbook(workbook: Any, handle: io.BufferedReader) -> None:
    workbook.close()
    handle.close()


def _no_close() -> None:
    """An ``.xls`` book is read whole; nothing stays open."""


def _xls_rows(book: Any, sheet: Any) -> Iterable[list[str]]:
    import xlrd

    for r in range(sheet.nrows):
        cells = []
        for cell in sheet.row(r):
            if cell.ctype == xlrd.XL_CELL_DATE:
                value = xlrd.xldate_as_datetime(cell.value, book.datemode)
                cells.append(cell_text(value.date() if value.time() == dt.time() else value))
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                cells.append("")
            else:
                cells.append(cell_text(cell.value))
        yield cells


def xls_sources(path: Path, extra: Collection[str] = ()) -> list[Source]:
    """One source per non-empty sheet of a legacy ``.xls`` workbook (BIFF, read by xlrd).

    An ``.xls`` file is at most 65,536 rows per sheet, so it is read whole.
    """
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=path.read_bytes())
    except Exception as error:  # xlrd raises XLRDError, struct errors … for a corrupt file
        raise ImportRowError(
            f"{path.name}: not a readable .xls workbook ({error}); save it as .xlsx or CSV",
            details={"file": str(path)},
        ) from error
    sources = []
    for sheet in book.sheets():
        source = _sheet_source(
            path, sheet.name, iter(list(_xls_rows(book, sheet))), extra, lambda: _no_close
        )
        if source is not None:
            sources.append(source)
    book.release_resources()
    return sources
