"""Decide, for one source, which table it holds and how each of its columns will be read.

The same decision serves the import and ``nengli import --inspect``: header aliases, then the
mapping file's choices on top, then the table's own columns. A header that is dropped is
listed either as personal data (never kept), as ignored, or — when it looks meaningful (a
state, a progress, a score, a date, hours) — as *unmapped*, which the report warns about with
its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from competency_model.errors import ImportRowError
from competency_model.province import TABLE_COLUMNS
from training_data.imports.headers import (
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    detect_table,
    is_province_responses,
    looks_meaningful,
    map_headers,
)
from training_data.imports.options import FileMapping, MappingFile
from training_data.imports.report import FileReport
from training_data.imports.source_types import Source

__all__ = ["TABLE_FIELDS", "Plan", "classify", "rewrite_values"]

#: The canonical columns each table reads; anything else mapped is unused (and reported).
TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    # Schools, teachers and grades read exactly the province contract's columns; events and
    # responses read export-side columns (learning states, question ids) turned into it later.
    **{name: TABLE_COLUMNS[name] for name in ("schools", "teachers", "grades")},
    "events": (
        "teacher_id",
        "item_id",
        "event",
        "state",
        "value",
        "timestamp",
        "enrolled_at",
        "completed_at",
        "hours",
    ),
    "responses": ("teacher_id", "question_id", "response"),
}


@dataclass
class Plan:
    """How a source will be read: its table, position → column, value rewrites, the report."""

    table: str
    mapping: dict[int, str]
    report: FileReport
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: positions of headers that look meaningful but are not read (warned about with values)
    unmapped: dict[int, str] = field(default_factory=dict)


def _describe_missing(missing: Sequence[str]) -> str:
    return "; ".join(f"{c} ({'/'.join(HEADER_ALIASES[c][1:4])})" for c in missing)


def classify(source: Source, mapping_file: MappingFile | None = None) -> Plan:
    """The :class:`Plan` for ``source``.

    Raises
    ------
    ImportRowError
        If the table cannot be told from the headers, or a required column is missing.
    """
    entry: FileMapping | None = (
        mapping_file.for_file(source.label, source.path.name) if mapping_file else None
    )
    overrides = entry.columns if entry else {}
    mapping, private, ignored = map_headers(source.headers, overrides)
    if is_province_responses(mapping.values()):
        mapping = {k: "question_id" if v == "item_id" else v for k, v in mapping.items()}
    table = (entry.table if entry else None) or detect_table(mapping.values())
    if table is None:
        raise ImportRowError(
            f"{source.label}: cannot tell which table this file holds from its headers "
            f'{source.headers}; name it in a mapping file (--mapping, "table": …) or see '
            "docs/data-formats.md for the expected columns",
            details={"file": source.label, "headers": source.headers},
        )
    if table == "responses" and "item_id" in mapping.values():
        mapping = {k: "question_id" if v == "item_id" else v for k, v in mapping.items()}
    unused = {p: c for p, c in mapping.items() if c not in TABLE_FIELDS[table]}
    mapping = {p: c for p, c in mapping.items() if p not in unused}
    ignored += [source.headers[p] for p in unused]
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in mapping.values()]
    if missing:
        raise ImportRowError(
            f"{source.label}: looks like a {table} file but lacks required column(s) "
            f"{_describe_missing(missing)}; map a header to it with --mapping if it is there "
            "under another name",
            details={"file": source.label, "table": table, "missing_columns": missing},
        )
    positions = {h: p for p, h in reversed(list(enumerate(source.headers)))}
    unmapped = {positions[h]: h for h in ignored if h in positions and looks_meaningful(h)}
    report = FileReport(
        file=source.label,
        table=table,
        encoding=source.encoding,
        header_row=source.header_row,
        dropped_private_columns=private,
        ignored_columns=ignored,
        columns={source.headers[p]: c for p, c in sorted(mapping.items())},
    )
    return Plan(table, mapping, report, dict(entry.values) if entry else {}, unmapped)


def rewrite_values(cells: pd.DataFrame, values: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Apply a mapping file's value rewrites (exact match after trimming) to canonical columns."""
    for column, table in values.items():
        if column in cells:
            stripped = cells[column].str.strip()
            cells[column] = stripped.map(table).fillna(stripped)
    return cells
