"""Read platform export files as chunks of text cells, whatever their format and encoding.

Format and encoding are decided from the bytes, never from the file name: a ``.csv`` saved by
Excel on a Chinese Windows machine is GBK, one saved by a web platform is UTF-8 (often with a
BOM), a renamed ``.xlsx`` is still a zip archive, a legacy ``.xls`` an OLE2 file, and a PNG
named ``.csv`` is refused as an image. Encoding detection order: BOM → strict
UTF-8 → GB18030 (a superset of GBK/GB2312) → charset-normalizer's best guess.

Files are read in chunks of :data:`CHUNK_ROWS` rows so that a province-wide export with
millions of rows never has to fit in memory at once. Every chunk carries the row numbers the
user sees in a spreadsheet (the header row is row 1 when the file starts with it).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from competency_model.errors import ImportRowError
from training_data.imports.header_rows import HEADER_SEARCH_ROWS, find_header
from training_data.imports.source_types import CHUNK_ROWS, Chunk, Source
from training_data.imports.workbooks import xls_sources, xlsx_sources

__all__ = ["CHUNK_ROWS", "Chunk", "Source", "detect_encoding", "open_sources"]

_SAMPLE_BYTES = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
#: Binary formats people upload by mistake, recognised so the message can say what it was.
_BINARY_MAGIC: dict[bytes, str] = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"MZ": "a Windows program",
    b"\x7fELF": "a program",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}


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


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _csv_source(path: Path, head: bytes, extra: Collection[str]) -> Source:
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="ignore")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first_line)
    try:
        # newline=None: bare CR (old Mac, some platform exports) and CRLF both end a line.
        reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
        preview = [
            [cell.strip().lstrip("\ufeff") for cell in row]
            for row in itertools.islice(reader, HEADER_SEARCH_ROWS)
        ]
    except csv.Error as error:
        raise ImportRowError(
            f"{path.name}: malformed CSV near the top ({error}); check quotes and line endings",
            details={"file": str(path)},
        ) from error
    found = find_header(preview, path, extra)
    headers = found.headers
    header_index = found.data_start - 1

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
                # A short row (a line cut by a stray CR) has missing cells: empty, not NaN.
                yield Chunk(block.fillna("").reset_index(drop=True), numbers)
        except UnicodeDecodeError as error:
            raise ImportRowError(
                f"{path.name}: bytes at offset {error.start} are not valid {encoding}; the file "
                "mixes encodings — re-save it as UTF-8",
                details={"file": str(path), "encoding": encoding},
            ) from error
        except (pd.errors.ParserError, csv.Error) as error:
            raise ImportRowError(
                f"{path.name}: malformed CSV ({error}); check quotes and the number of columns",
                details={"file": str(path)},
            ) from error

    return Source(path, path.name, headers, found.data_start, encoding, chunks())


def _refuse_binary(path: Path, head: bytes) -> None:
    """A file that is neither a workbook nor text is refused, naming what it looks like."""
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ImportRowError(
                f"{path.name} is {kind}, not a CSV or Excel export; export the table as .csv, "
                ".xlsx or .xls",
                details={"file": str(path)},
            )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    if b"\x00" in head[:65536]:
        raise ImportRowError(
            f"{path.name} holds binary data (NUL bytes), not a CSV or Excel export; export the "
            "table as .csv, .xlsx or .xls",
            details={"file": str(path)},
        )


def open_sources(path: Path, extra_headers: Collection[str] = ()) -> list[Source]:
    """Open ``path`` (CSV, XLSX or XLS, decided from its first bytes) as one or more sources.

    Parameters
    ----------
    path
        The file.
    extra_headers
        Cleaned headers named by a mapping file, so the header row is found even when no
        alias covers it.

    Raises
    ------
    ImportRowError
        For a missing or empty file, a binary file that is not a workbook, an undecodable text,
        malformed CSV or no header row.
    """
    if not path.is_file():
        raise ImportRowError(f"{path} does not exist", details={"file": str(path)})
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if head.startswith(_ZIP_MAGIC):
        return xlsx_sources(path, extra_headers)
    if head.startswith(_OLE_MAGIC):
        return xls_sources(path, extra_headers)
    if not head.strip():
        raise ImportRowError(f"{path.name} is empty", details={"file": str(path)})
    _refuse_binary(path, head)
    return [_csv_source(path, head, extra_headers)]
