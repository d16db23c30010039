"""Turn platform export files into province tables: parse, validate, de-duplicate, report.

:func:`import_files` is pure (files in, tables + report out) so the CLI and the HTTP service
share it; :func:`write_import` (in :mod:`training_data.imports.writer`) is the only part that
touches a province directory.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from competency_model.catalog import Catalog, default_catalog
from competency_model.errors import ImportRowError
from competency_model.framework import Framework, default_framework
from competency_model.item_bank import ItemBank, default_item_bank
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import TABLE_COLUMNS, normalize_table
from competency_model.vocabulary import Vocabulary
from training_data.imports import defaults as d
from training_data.imports.checks import Issue
from training_data.imports.classify import Plan, classify, rewrite_values
from training_data.imports.notices import derivations, warnings_from
from training_data.imports.options import ImportOptions
from training_data.imports.report import (
    FileReport,
    ImportReport,
    ImportWarning,
    RejectedRow,
)
from training_data.imports.sources import Source, open_sources
from training_data.imports.validate import Validator

__all__ = [
    "IMPORT_SUFFIXES",
    "ImportOptions",
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
IMPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls")
#: Referenced tables first, so a teachers file in the same batch makes its ids known to events.
_TABLE_ORDER = ("schools", "teachers", "responses", "grades", "events")
#: Rejected rows listed in the report itself; the quarantine file always has all of them.
MAX_REPORTED_ISSUES = 1000


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


def open_plans(
    paths: Iterable[str | os.PathLike[str]], options: ImportOptions
) -> list[tuple[Source, Plan]]:
    """Open every file and decide how it is read, in dependency order (schools first)."""
    extra = options.mapping.all_headers() if options.mapping else set()
    planned = []
    for path in _expand(paths):
        for source in open_sources(path, extra):
            try:
                planned.append((source, classify(source, options.mapping)))
            except ImportRowError:
                source.close()
                for opened, _ in planned:
                    opened.close()
                raise
    planned.sort(key=lambda entry: _TABLE_ORDER.index(entry[1].table))
    return planned


#: Distinct values kept per unmapped column: a free-text or timestamp column must not grow
#: the counter with the file; values past the cap still count in the row total.
MAX_DISTINCT_VALUES = 1000
_OTHER_VALUES = "…"


def _count_values(
    unmapped: dict[tuple[str, str], Counter[str]], key: tuple[str, str], cells: pd.Series
) -> None:
    values = cells.str.strip()
    counts = unmapped.setdefault(key, Counter())
    found = values[values.ne("")].value_counts()
    if len(counts) + len(found) <= MAX_DISTINCT_VALUES:
        counts.update(found.to_dict())
        return
    known = found.index.isin(list(counts))
    counts.update(found[known].to_dict())
    counts[_OTHER_VALUES] += int(found[~known].sum())


def now_limit(now: pd.Timestamp | None) -> pd.Timestamp:
    if now is not None:
        return now
    return pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None) + pd.Timedelta(days=1)


def import_files(
    paths: Iterable[str | os.PathLike[str]],
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    known_teacher_ids: Collection[str] | None = None,
    now: pd.Timestamp | None = None,
    item_bank: ItemBank | None = None,
    options: ImportOptions | None = None,
    vocabulary: Vocabulary | None = None,
    known_school_ids: Collection[str] | None = None,
    progress: ProgressReporter = NO_PROGRESS,
) -> ImportResult:
    """Parse and validate platform exports into province tables.

    Parameters
    ----------
    paths
        Files (CSV, XLSX or XLS in any supported encoding) and/or directories of them.
    framework, catalog
        Point codes and course ids are checked against these (defaults: shipped ones).
    known_teacher_ids
        Teachers already stored (e.g. in the target province). Events, grades and responses
        must refer to these or to teachers in the same batch; ``None`` skips the check.
    now
        Timestamps after this are rejected (default: the current Beijing time plus one day).
    item_bank
        Questionnaire answers are checked and scored against it (default: the shipped bank).
    options
        Defaults for absent columns, the mapping file, and what to do with teachers whose
        school is unknown (see :class:`~training_data.imports.options.ImportOptions`).
    vocabulary
        Stage and subject spellings (default: the shipped national vocabulary).
    known_school_ids
        Schools already stored. Teachers naming another school (not in the batch either) get
        an inferred school (``options.missing_schools="infer"``) or are rejected (``"reject"``).
        ``None``: no stored schools are known (a new province).
    progress
        Hears one stage per file (with its table) and the rows read, chunk by chunk, then the
        batch-level checks.

    Raises
    ------
    ImportRowError
        For problems with a whole file (unreadable, unknown table, missing column) or an
        export date later than ``now``. Row-level problems do not raise; they are in
        ``result.report`` and ``result.quarantine``.
    """
    framework = framework or default_framework()
    catalog = catalog or default_catalog()
    options = options or ImportOptions()
    limit = now_limit(now)
    if options.export_date is not None and pd.Timestamp(options.export_date) > limit:
        raise ImportRowError(
            f"export date {options.export_date} is later than today; give the day the export "
            "was taken (--export-date YYYY-MM-DD)",
            details={"field": "export_date", "value": str(options.export_date)},
        )
    known: set[str] | None = set(known_teacher_ids) if known_teacher_ids is not None else None
    schools_known: set[str] = set(known_school_ids or ())
    validator = Validator(
        framework,
        catalog,
        known,
        limit,
        item_bank or default_item_bank(),
        vocabulary=vocabulary,
        options=options,
        known_schools=schools_known,
    )
    accepted: dict[str, list[pd.DataFrame]] = {}
    issues: list[Issue] = []
    rejected_frames: list[pd.DataFrame] = []
    reports: dict[str, FileReport] = {}
    unmapped: dict[tuple[str, str], Counter[str]] = {}
    for source, plan in open_plans(paths, options):
        reports[source.label] = plan.report
        progress.stage(f"读取 reading {source.label} → {plan.table} (rows)")
        try:
            for chunk in source.chunks():
                for position, header in plan.unmapped.items():
                    _count_values(unmapped, (source.label, header), chunk.cells[position])
                cells = chunk.cells[list(plan.mapping)].rename(columns=plan.mapping)
                cells = rewrite_values(cells, plan.values)
                result = validator.validate(plan.table, cells, chunk.row_numbers, source.label)
                plan.report.rows += len(result.accepted["_row"].unique()) + len(
                    result.rejected_rows
                )
                accepted.setdefault(plan.table, []).append(result.accepted)
                issues += result.issues
                rejected_frames.append(result.rejected_rows.assign(_table=plan.table))
                if plan.table == "teachers" and known is not None:
                    known.update(result.accepted["teacher_id"])
                if plan.table == "schools":
                    schools_known.update(result.accepted["school_id"])
                progress.advance(len(chunk.row_numbers))
        finally:
            source.close()

    progress.stage("核对 checking duplicates and deriving schools")
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
        columns = list(TABLE_COLUMNS[table]) + [
            c for c in d.FLAG_COLUMNS.get(table, ()) if c in kept.columns
        ]
        tables[table] = normalize_table(table, kept[columns])
    extra = _derive_tables(tables, schools_known, options)
    report, quarantine = _summarise(reports, issues, rejected_frames)
    report.warnings = warnings_from(validator.tally, unmapped, extra)
    report.derived = derivations(validator.tally)
    return ImportResult(tables, report, quarantine)


def _derive_tables(
    tables: dict[str, pd.DataFrame], schools_known: set[str], options: ImportOptions
) -> list[ImportWarning]:
    """Batch-level derivations: teacher counts, inferred schools, inferred 选点."""
    notes: list[ImportWarning] = []
    teachers = tables.get("teachers")
    if "schools" in tables:
        tables["schools"], counted = d.count_teachers(tables["schools"], teachers)
        if counted:
            notes.append(
                ImportWarning(
                    code="derived",
                    column="n_teachers",
                    rows=counted,
                    message_zh=f"{counted} 所学校的教师数由教师名单统计得出",
                    message_en=f"n_teachers of {counted} schools counted from the teachers file",
                )
            )
    if teachers is not None and len(teachers) and options.missing_schools == "infer":
        inferred = d.infer_schools(teachers, schools_known, options)
        if len(inferred):
            shown = "、".join(inferred["school_id"].head(5))
            notes.append(
                ImportWarning(
                    code="schools_inferred",
                    column="school_id",
                    rows=len(inferred),
                    values=dict(zip(inferred["school_id"], inferred["n_teachers"], strict=True)),
                    message_zh=f"没有学校信息的 {len(inferred)} 所学校（{shown}）由教师名单推断：环境按多媒体、"
                    "批次未知（school_inferred）；导入学校文件可补全",
                    message_en=f"{len(inferred)} schools without a schools row ({shown}) were "
                    "inferred from the teachers: environment multimedia, batch unknown (flagged "
                    "school_inferred); import the schools file to complete them",
                )
            )
            base = tables.get("schools")
            if base is not None:
                base = base.assign(**{d.SCHOOL_INFERRED: False})
            tables["schools"] = normalize_table(
                "schools",
                pd.concat([f for f in (base, inferred) if f is not None], ignore_index=True),
            )
    if "schools" in tables and teachers is not None and "grades" in tables:
        tables["schools"], n = d.infer_chosen_points(tables["schools"], teachers, tables["grades"])
        if n:
            notes.append(
                ImportWarning(
                    code="chosen_points_inferred",
                    column="chosen_points",
                    rows=n,
                    message_zh=f"{n} 所学校没有选点，已由其考核记录推断（chosen_points_inferred）",
                    message_en=f"chosen_points of {n} schools inferred from their assessment "
                    "records (flagged chosen_points_inferred)",
                )
            )
    return notes


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
