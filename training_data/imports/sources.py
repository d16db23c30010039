"""Read platform export files as chunks of text cells, whatever their format and encoding.

Format and encoding are decided from the bytes, never from the file name: a ``.csv`` saved by
Excel on a Chinese Windows machine is GBK, one saved by a web platform is UTF-8 (often with a
BOM), and a renamed ``.xlsx`` is still a zip archive. Encoding detection order: BOM → strict
UTF-8 → GB18030 (a superset of GBK/GB2312) → charset-normalizer's best guess.

Files are read in chunks of :data:`CHUNK_ROWS` rows so that a province-wide export with
millions of rows never has to fit in memory at once. Every chunk carries the row numbers the
user sees in a spreadsheet (the header row is row 1 when the file starts with it).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from competency_model.errors import ImportRowError
from training_data.imports.headers import recognised_count

__all__ = ["CHUNK_ROWS", "Chunk", "Source", "detect_encoding", "open_sources"]

CHUNK_ROWS = 50_000
_SAMPLE_BYTES = 1 << 20
#: A header must name at least this many known columns; protects against title rows.
_MIN_RECOGNISED = 2
_HEADER_SEARCH_ROWS = 10
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Chunk:
    """A block of rows: text cells (one column per header position) and their row numbers."""

    cells: pd.DataFrame
    row_numbers: np.ndarray


@dataclass
class Source:
    """One table-shaped unit of input: a CSV file or one sheet of a workbook."""

    path: Path
    label: str
    headers: list[str]
    header_row: int
    encoding: str | None
    _chunks: Iterator[Chunk] = field(repr=False)
    close: Callable[[], None] = field(default=lambda: None, repr=False)

    def chunks(self) -> Iterator[Chunk]:
        """The data rows, chunk by chunk (can be consumed once)."""
        return self._chunks


def _decodes(sample: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        # final=False: a multi-byte character cut by the sample boundary is not an error.
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes) -> str:
    """Return the Python codec for a CSV file starting with ``sample``.

    Raises
    ------
    ImportRowError
        If no supported encoding decodes the bytes.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(sample, encoding):
            return encoding
    guess = from_bytes(sample).best()
    if guess is not None:
        return guess.encoding
    raise ImportRowError(
        "cannot determine the text encoding; save the file as UTF-8 (or GBK) CSV or as .xlsx"
    )


def _find_header(rows: list[list[str]], path: Path) -> int:
    """Index of the first row naming enough known columns (title rows above it are skipped)."""
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if recognised_count(row) >= _MIN_RECOGNISED:
            return index
    first = rows[0] if rows else []
    raise ImportRowError(
        f"{path.name}: no header row found in the first {_HEADER_SEARCH_ROWS} rows "
        f"(first row: {first[:8]}); the header must name columns such as 教师编号/teacher_id, "
        "学校编号, 课程编号, 能力点, 考核结果 — see docs/data-formats.md",
        details={"file": str(path)},
    )


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _csv_source(path: Path, head: bytes) -> Source:
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="ignore")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first_line)
    preview = list(
        itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), _HEADER_SEARCH_ROWS)
    )
    header_index = _find_header(preview, path)
    headers = [h.strip().lstrip("\ufeff") for h in preview[header_index]]

    def chunks() -> Iterator[Chunk]:
        first_row = header_index + 2
        try:
            reader = pd.read_csv(
                path,
                encoding=encoding,
                sep=delimiter,
                header=None,
                names=list(range(len(headers))),
                skiprows=header_index + 1,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                chunksize=CHUNK_ROWS,
                quotechar='"',
            )
            for block in reader:
                numbers = np.arange(first_row, first_row + len(block))
                first_row += len(block)
                yield Chunk(block.reset_index(drop=True), numbers)
        except UnicodeDecodeError as error:
            raise ImportRowError(
                f"{path.name}: bytes at offset {error.start} are not valid {encoding}; the file "
                "mixes encodings — re-save it as UTF-8",
                details={"file": str(path), "encoding": encoding},
            ) from error
        except pd.errors.ParserError as error:
            raise ImportRowError(
                f"{path.name}: malformed CSV ({error}); check quotes and the number of columns",
                details={"file": str(path)},
            ) from error

    return Source(path, path.name, headers, header_index + 1, encoding, chunks())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_sources(path: Path) -> list[Source]:
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
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        preview: list[list[str]] = []
        for row in rows:
            preview.append([_cell_text(v) for v in row])
            if len(preview) >= _HEADER_SEARCH_ROWS:
                break
        if not any(any(cell for cell in row) for row in preview):
            continue  # an empty sheet (e.g. the default Sheet2) is not an error
        header_index = _find_header(preview, path)
        headers = preview[header_index]
        sources.append(
            Source(
                path,
                f"{path.name}[{sheet.title}]",
                headers,
                header_index + 1,
                None,
                _xlsx_chunks(preview[header_index + 1 :], rows, header_index + 2, len(headers)),
                functools.partial(_close_workbook, workbook, handle),
            )
        )
    if not sources:
        workbook.close()
        handle.close()
    return sources


def _close_workbook(workbook: Any, handle: io.BufferedReader) -> None:
    workbook.close()
    handle.close()


def _xlsx_chunks(
    buffered: list[list[str]], rest: Iterator[tuple[object, ...]], first_row: int, width: int
) -> Iterator[Chunk]:
    block: list[list[str]] = []

    def emit(rows: list[list[str]], start: int) -> Chunk:
        padded = [(row + [""] * width)[:width] for row in rows]
        frame = pd.DataFrame(padded, columns=list(range(width)), dtype=str)
        return Chunk(frame, np.arange(start, start + len(rows)))

    start = first_row
    for row in buffered:
        block.append(row)
    for raw in rest:
        block.append([_cell_text(v) for v in raw])
        if len(block) >= CHUNK_ROWS:
            yield emit(block, start)
            start += len(block)
            block = []
    if block:
        yield emit(block, start)


def open_sources(path: Path) -> list[Source]:
    """Open ``path`` (CSV or XLSX, decided from its first bytes) as one or more sources.

    Raises
    ------
    ImportRowError
        For a missing file, a legacy ``.xls`` workbook, an undecodable text or no header row.
    """
    if not path.is_file():
        raise ImportRowError(f"{path} does not exist", details={"file": str(path)})
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if head.startswith(_ZIP_MAGIC):
        return _xlsx_sources(path)
    if head.startswith(_OLE_MAGIC):
        raise ImportRowError(
            f"{path.name} is a legacy .xls workbook; save it as .xlsx or CSV",
            details={"file": str(path)},
        )
    if not head.strip():
        raise ImportRowError(f"{path.name} is empty", details={"file": str(path)})
    return [_csv_source(path, head)]
