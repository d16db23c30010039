"""Merge an :class:`ImportResult` into a province directory, all or nothing.

Two modes, chosen by the user because both are legitimate:

* ``reject`` (default): one bad row and nothing is written — the export is fixed and re-sent.
* ``quarantine``: the good rows are merged, the bad rows are written to ``quarantine.csv``
  (UTF-8 with BOM so Excel shows the Chinese reasons) next to the tables.

Either way the directory is replaced atomically, and rows are upserted on their natural keys,
so importing the same file twice leaves the province unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import pandas as pd

from competency_model.errors import ImportRowError
from competency_model.province import (
    CORE_TABLES,
    MANIFEST_NAME,
    TABLE_COLUMNS,
    TRUTH_TABLES,
    Province,
    as_id_strings,
    atomic_directory,
    read_province,
    write_tables,
)
from training_data.imports.defaults import FLAG_COLUMNS, infer_chosen_points
from training_data.imports.importer import NATURAL_KEYS, ImportReport, ImportResult

__all__ = [
    "QUARANTINE_NAME",
    "REPORT_NAME",
    "existing_school_ids",
    "existing_teacher_ids",
    "read_existing",
    "write_import",
]

QUARANTINE_NAME = "quarantine.csv"
REPORT_NAME = "import_report.json"
Mode = Literal["reject", "quarantine"]
_SHOWN_IN_MESSAGE = 5


def _has_province(directory: Path) -> bool:
    return directory.is_dir() and (
        (directory / MANIFEST_NAME).is_file()
        or any(
            (directory / f"{t}.{fmt}").is_file() for t in CORE_TABLES for fmt in ("parquet", "csv")
        )
    )


def read_existing(out_dir: str | os.PathLike[str]) -> Province | None:
    """The province already in ``out_dir``, or ``None`` when there is none yet."""
    directory = Path(out_dir)
    return read_province(directory) if _has_province(directory) else None


def existing_teacher_ids(out_dir: str | os.PathLike[str]) -> set[str]:
    """Teacher ids stored in ``out_dir`` (empty when there is no province yet).

    Reads only the id column of the teachers table: a province-wide events table can be large.
    """
    directory = Path(out_dir)
    if not _has_province(directory):
        return set()
    if (directory / "teachers.parquet").is_file():
        ids = pd.read_parquet(directory / "teachers.parquet", columns=["teacher_id"])
    elif (directory / "teachers.csv").is_file():
        ids = pd.read_csv(
            directory / "teachers.csv", usecols=["teacher_id"], dtype=str, encoding="utf-8-sig"
        )
    else:
        return set(read_province(directory).teachers["teacher_id"])  # raises: table missing
    return set(as_id_strings(ids["teacher_id"]).dropna())


def existing_school_ids(out_dir: str | os.PathLike[str]) -> set[str]:
    """School ids stored in ``out_dir`` (empty when there is no province yet)."""
    province = read_existing(out_dir)
    if province is None:
        return set()
    return set(as_id_strings(province.schools["school_id"]).dropna())


def _merge(old: pd.DataFrame, new: pd.DataFrame, table: str) -> tuple[pd.DataFrame, int, int, int]:
    """Upsert ``new`` into ``old``; return (merged, inserted, updated, unchanged)."""
    keys = list(NATURAL_KEYS[table])
    if new.empty:
        return old, 0, 0, 0
    if old.empty:
        return new.reset_index(drop=True), len(new), 0, 0
    columns = list(TABLE_COLUMNS[table])
    matched = new[columns].merge(
        old[columns], on=keys, how="left", suffixes=("", "__old"), indicator=True
    )
    inserted = int((matched["_merge"] == "left_only").sum())
    both = matched[matched["_merge"] == "both"]
    same = pd.Series(True, index=both.index)
    for column in (c for c in columns if c not in keys):
        a, b = both[column], both[f"{column}__old"]
        same &= (a == b).fillna(False) | (a.isna() & b.isna())
    merged = pd.concat([old, new], ignore_index=True)
    merged = merged.drop_duplicates(subset=keys, keep="last").reset_index(drop=True)
    for flag in FLAG_COLUMNS.get(table, ()):
        if flag in merged:  # rows stored before the flag existed were read from the file
            merged[flag] = merged[flag].astype("boolean").fillna(False).astype(bool)
    return merged, inserted, int((~same).sum()), int(same.sum())


def _reject_message(report: ImportReport) -> str:
    shown = "; ".join(
        f"{r.file} row {r.row} {r.field}={r.value!r}: {r.reason_en} ({r.reason_zh})"
        for r in report.rejected_rows[:_SHOWN_IN_MESSAGE]
    )
    more = report.rejected - min(report.rejected, _SHOWN_IN_MESSAGE)
    return (
        f"{report.rejected} row(s) rejected, nothing written: {shown}"
        + (f"; … and {more} more" if more > 0 else "")
        + ". Fix the rows, or re-run with --on-error quarantine to import the good rows"
    )


def write_import(
    result: ImportResult,
    out_dir: str | os.PathLike[str],
    mode: Mode = "reject",
    format: Literal["parquet", "csv"] | None = None,
) -> ImportReport:
    """Merge ``result`` into the province at ``out_dir`` (created if missing), atomically.

    Parameters
    ----------
    mode
        ``"reject"``: raise and write nothing if any row was rejected. ``"quarantine"``: write
        the good rows and ``quarantine.csv`` with the bad ones.
    format
        Table format; default keeps the existing province's format (Parquet for a new one).

    Returns
    -------
    ImportReport
        The report with ``written``, ``inserted``, ``updated`` and ``unchanged`` filled in.

    Raises
    ------
    ImportRowError
        In ``reject`` mode when rows were rejected (``details['rejected']`` lists them).
    """
    if mode not in ("reject", "quarantine"):
        raise ImportRowError(f"unknown mode {mode!r}; use 'reject' or 'quarantine'")
    report = result.report.model_copy(deep=True)
    if report.rejected and mode == "reject":
        raise ImportRowError(
            _reject_message(report),
            details={
                "rejected": [r.model_dump() for r in report.rejected_rows],
                "accepted": report.accepted,
            },
        )
    directory = Path(out_dir)
    existing = read_existing(directory)
    if format is None:
        manifest = directory / MANIFEST_NAME
        format = (
            json.loads(manifest.read_text(encoding="utf-8")).get("format", "parquet")
            if manifest.is_file()
            else "parquet"
        )
    base = existing or Province()
    merged = base.tables()
    for table, frame in result.tables.items():
        merged[table], report.inserted[table], report.updated[table], report.unchanged[table] = (
            _merge(merged[table], frame, table)
        )
    if len(merged["schools"]) and len(merged["grades"]):
        # 选点 from all stored grades, not only this batch's (a grades file imported later)
        merged["schools"], _ = infer_chosen_points(
            merged["schools"], merged["teachers"], merged["grades"]
        )
    report.written, report.mode, report.out_dir = True, mode, str(directory.resolve())
    owned = [QUARANTINE_NAME, REPORT_NAME]
    with atomic_directory(directory, owned=owned + _province_files()) as staging:
        write_tables(Province(**merged), staging, format)
        if mode == "quarantine" and len(result.quarantine):
            result.quarantine.to_csv(staging / QUARANTINE_NAME, index=False, encoding="utf-8-sig")
        (staging / REPORT_NAME).write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def _province_files() -> list[str]:
    return [f"{t}.{fmt}" for t in [*CORE_TABLES, *TRUTH_TABLES] for fmt in ("parquet", "csv")]
