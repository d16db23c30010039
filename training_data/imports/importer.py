"""Turn platform export files into province tables: parse, validate, de-duplicate, report.

:func:`import_files` is pure (files in, tables + report out) so the CLI and the HTTP service
share it; :func:`write_import` (in :mod:`training_data.imports.writer`) is the only part that
touches a province directory.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from competency_model.catalog import Catalog, default_catalog
from competency_model.errors import ImportRowError
from competency_model.framework import Framework, default_framework
from competency_model.item_bank import ItemBank, default_item_bank
from competency_model.province import TABLE_COLUMNS, normalize_table
from training_data.imports.checks import Issue
from training_data.imports.headers import (
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    detect_table,
    is_province_responses,
    map_headers,
)
from training_data.imports.sources import Source, open_sources
from training_data.imports.validate import Validator

__all__ = [
    "IMPORT_SUFFIXES",
    "NATURAL_KEYS",
    "FileReport",
    "ImportReport",
    "ImportResult",
    "RejectedRow",
    "import_files",
]

#: Natural key of each table: importing the same facts twice must update, never duplicate.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "schools": ("school_id",),
    "teachers": ("teacher_id",),
    "events": ("event_id",),
    "grades": ("teacher_id", "point", "assessed_at"),
    "responses": ("teacher_id", "item_id"),
}
#: Files picked up when a directory is imported (explicitly named files are always read).
IMPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
#: Referenced tables first, so a teachers file in the same batch makes its ids known to events.
_TABLE_ORDER = ("schools", "teachers", "responses", "grades", "events")
#: Rejected rows listed in the report itself; the quarantine file always has all of them.
MAX_REPORTED_ISSUES = 1000


class RejectedRow(BaseModel):
    """One problem in one row, as shown to the person who exported the file."""

    file: str
    row: int
    field: str
    value: str
    reason_zh: str
    reason_en: str


class FileReport(BaseModel):
    """What happened to one file (or one workbook sheet)."""

    file: str
    table: str
    encoding: str | None
    header_row: int
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    dropped_private_columns: list[str] = []
    ignored_columns: list[str] = []


class ImportReport(BaseModel):
    """Outcome of an import: counts, per-file details, and the rejected rows with reasons."""

    accepted: int = 0
    rejected: int = 0
    files: list[FileReport] = []
    rejected_rows: list[RejectedRow] = []
    rejected_rows_truncated: bool = False
    written: bool = False
    mode: str | None = None
    out_dir: str | None = None
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    unchanged: dict[str, int] = {}


@dataclass
class ImportResult:
    """Clean tables (province dtypes, without truth), the report, and the rejected rows."""

    tables: dict[str, pd.DataFrame]
    report: ImportReport
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in IMPORT_SUFFIXES
                and not p.name.startswith((".", "~$"))
            )
        else:
            files.append(path)
    if not files:
        raise ImportRowError(
            "nothing to import: no .csv/.xlsx files found in " + ", ".join(str(p) for p in paths)
        )
    return files


def _describe_missing(missing: Sequence[str]) -> str:
    return "; ".join(f"{c} ({'/'.join(HEADER_ALIASES[c][1:4])})" for c in missing)


def _classify(source: Source) -> tuple[str, dict[int, str], FileReport]:
    mapping, private, ignored = map_headers(source.headers)
    if is_province_responses(mapping.values()):
        mapping = {k: "question_id" if v == "item_id" else v for k, v in mapping.items()}
    table = detect_table(mapping.values())
    if table is None:
        raise ImportRowError(
            f"{source.label}: cannot tell which table this file holds from its headers "
            f"{source.headers}; see docs/data-formats.md for the expected columns",
            details={"file": source.label, "headers": source.headers},
        )
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in mapping.values()]
    if missing:
        raise ImportRowError(
            f"{source.label}: looks like a {table} file but lacks required column(s) "
            f"{_describe_missing(missing)}",
            details={"file": source.label, "table": table, "missing_columns": missing},
        )
    report = FileReport(
        file=source.label,
        table=table,
        encoding=source.encoding,
        header_row=source.header_row,
        dropped_private_columns=private,
        ignored_columns=ignored,
    )
    return table, mapping, report


def _conflicts(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Issue], pd.Series]:
    """Drop exact repeats of a natural key; reject later rows that repeat it with other values."""
    keys = list(NATURAL_KEYS[table])
    content = list(TABLE_COLUMNS[table])
    exact = frame.duplicated(subset=content, keep="first")
    frame = frame[~exact]
    clash = frame.duplicated(subset=keys, keep="first")
    issues: list[Issue] = []
    if clash.any():
        firsts = frame[~clash].set_index(keys)[["_source", "_row"]]
        for record in frame[clash].to_dict("records"):
            key = tuple(record[k] for k in keys)
            first = firsts.loc[key if len(keys) > 1 else key[0]]
            issues.append(
                Issue(
                    record["_source"],
                    int(record["_row"]),
                    keys[0],
                    "|".join(map(str, key)),
                    f"与{first['_source']}第{int(first['_row'])}行重复但内容不同",
                    f"repeats the key of {first['_source']} row {int(first['_row'])} with "
                    "different values",
                )
            )
    return frame[~clash], issues, frame.loc[clash, ["_source", "_row"]].apply(tuple, axis=1)


def import_files(
    paths: Iterable[str | os.PathLike[str]],
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    known_teacher_ids: Collection[str] | None = None,
    now: pd.Timestamp | None = None,
    item_bank: ItemBank | None = None,
) -> ImportResult:
    """Parse and validate platform exports into province tables.

    Parameters
    ----------
    paths
        Files (CSV or XLSX in any supported encoding) and/or directories of them.
    framework, catalog
        Point codes and course ids are checked against these (defaults: shipped ones).
    known_teacher_ids
        Teachers already stored (e.g. in the target province). Events, grades and responses
        must refer to these or to teachers in the same batch; ``None`` skips the check.
    now
        Timestamps after this are rejected (default: the current Beijing time plus one day).
    item_bank
        Questionnaire answers are checked and scored against it (default: the shipped bank).

    Raises
    ------
    ImportRowError
        For problems with a whole file (unreadable, unknown table, missing column). Row-level
        problems do not raise; they are in ``result.report`` and ``result.quarantine``.
    """
    framework = framework or default_framework()
    catalog = catalog or default_catalog()
    limit = (
        now
        if now is not None
        else (pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None) + pd.Timedelta(days=1))
    )
    known: set[str] | None = set(known_teacher_ids) if known_teacher_ids is not None else None
    validator = Validator(framework, catalog, known, limit, item_bank or default_item_bank())
    classified = []
    for path in _expand(paths):
        for source in open_sources(path):
            classified.append((source, *_classify(source)))
    classified.sort(key=lambda entry: _TABLE_ORDER.index(entry[1]))

    accepted: dict[str, list[pd.DataFrame]] = {}
    issues: list[Issue] = []
    rejected_frames: list[pd.DataFrame] = []
    reports: dict[str, FileReport] = {}
    for source, table, mapping, file_report in classified:
        reports[source.label] = file_report
        try:
            for chunk in source.chunks():
                cells = chunk.cells[list(mapping)].rename(columns=mapping)
                result = validator.validate(table, cells, chunk.row_numbers, source.label)
                file_report.rows += len(result.accepted["_row"].unique()) + len(
                    result.rejected_rows
                )
                accepted.setdefault(table, []).append(result.accepted)
                issues += result.issues
                rejected_frames.append(result.rejected_rows.assign(_table=table))
                if table == "teachers" and known is not None:
                    known.update(result.accepted["teacher_id"])
        finally:
            source.close()

    tables: dict[str, pd.DataFrame] = {}
    for table, frames in accepted.items():
        combined = pd.concat(frames, ignore_index=True)
        kept, clash_issues, clashed = _conflicts(table, combined)
        issues += clash_issues
        if len(clashed):
            # A rejected row is rejected whole: drop its other events (enrol + complete) too.
            pairs = pd.Series(
                list(zip(kept["_source"], kept["_row"], strict=True)), index=kept.index
            )
            kept = kept[~pairs.isin(set(clashed.tolist()))]
            rejected_frames.append(
                combined[
                    pd.Series(list(zip(combined["_source"], combined["_row"], strict=True)))
                    .isin(set(clashed.tolist()))
                    .to_numpy()
                ]
                .drop_duplicates(subset=["_source", "_row"])
                .assign(_table=table)
            )
        tables[table] = normalize_table(table, kept[list(TABLE_COLUMNS[table])])
    return ImportResult(tables, *_summarise(reports, issues, rejected_frames))


def _summarise(
    reports: dict[str, FileReport], issues: list[Issue], rejected_frames: list[pd.DataFrame]
) -> tuple[ImportReport, pd.DataFrame]:
    rejected = pd.concat(
        [f for f in rejected_frames if len(f)]
        or [pd.DataFrame(columns=["_source", "_row", "_table"])],
        ignore_index=True,
    )
    rejected = rejected.groupby(["_source", "_row"], as_index=False, sort=False).first()
    by_row: dict[tuple[str, int], list[Issue]] = {}
    for issue in issues:
        by_row.setdefault((issue.source, issue.row), []).append(issue)
    for label, file_report in reports.items():
        file_report.rejected = int((rejected["_source"] == label).sum())
        file_report.accepted = file_report.rows - file_report.rejected
    rejected["_fields"] = [
        ";".join(i.field for i in by_row.get((s, int(r)), []))
        for s, r in zip(rejected["_source"], rejected["_row"], strict=True)
    ]
    rejected["_reasons_zh"] = [
        "；".join(f"{i.field}: {i.reason_zh}" for i in by_row.get((s, int(r)), []))
        for s, r in zip(rejected["_source"], rejected["_row"], strict=True)
    ]
    rejected["_reasons_en"] = [
        "; ".join(f"{i.field}: {i.reason_en}" for i in by_row.get((s, int(r)), []))
        for s, r in zip(rejected["_source"], rejected["_row"], strict=True)
    ]
    meta = ["_source", "_row", "_table", "_fields", "_reasons_zh", "_reasons_en"]
    quarantine = rejected[meta + [c for c in rejected.columns if c not in meta]]
    quarantine = quarantine.sort_values(["_source", "_row"], kind="stable").reset_index(drop=True)
    ordered = sorted(issues, key=lambda i: (i.source, i.row, i.field))
    report = ImportReport(
        accepted=sum(r.accepted for r in reports.values()),
        rejected=len(quarantine),
        files=list(reports.values()),
        rejected_rows=[
            RejectedRow(
                file=i.source,
                row=i.row,
                field=i.field,
                value=i.value,
                reason_zh=i.reason_zh,
                reason_en=i.reason_en,
            )
            for i in ordered[:MAX_REPORTED_ISSUES]
        ],
        rejected_rows_truncated=len(ordered) > MAX_REPORTED_ISSUES,
    )
    return report, quarantine.rename(columns={"_source": "_file"})
