"""``nengli import FILE_OR_DIR … --out DIR``: load platform exports into a province directory.

``--inspect`` shows how each file will be read and writes nothing; ``--mapping`` reads dialects
the header aliases do not cover; ``--region/--city/--district/--export-date`` give what the
export leaves out. Warnings (unmapped columns, rules that changed completions, inferred
schools) are printed first, before the per-file lines.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from competency_model.errors import ImportRowError
from service.cli.framework_cmd import resolve_framework
from service.cli.progress import QuietOption, cli_progress

if TYPE_CHECKING:
    from training_data.imports import ImportReport
    from training_data.imports.inspect import FileInspection

_SHOWN_ROWS = 20


def print_warnings(report: ImportReport) -> None:
    """The warnings, first and on stderr, so they are never lost under the per-file lines."""
    for warning in report.warnings:
        where = f"{warning.file}: " if warning.file else ""
        typer.echo(f"⚠ {where}{warning.message_zh} / {warning.message_en}", err=True)


def _print_report(report: ImportReport) -> None:
    print_warnings(report)
    for file in report.files:
        extras = ""
        if file.dropped_private_columns:
            extras += f"; dropped (privacy) {', '.join(file.dropped_private_columns)}"
        if file.ignored_columns:
            extras += f"; ignored {', '.join(file.ignored_columns)}"
        typer.echo(
            f"{file.file}: {file.table} [{file.encoding or 'workbook'}] rows={file.rows} "
            f"accepted={file.accepted} rejected={file.rejected}{extras}"
        )
    for item in report.derived:
        typer.echo(
            f"  · {item.file}: {item.table}.{item.field} {item.how} = {item.value} "
            f"({item.rows} row(s))"
        )
    for row in report.rejected_rows[:_SHOWN_ROWS]:
        typer.echo(
            f"  ✗ {row.file} 第{row.row}行 row {row.row} {row.field}={row.value!r}: "
            f"{row.reason_zh} / {row.reason_en}",
            err=True,
        )
    hidden = len(report.rejected_rows) - _SHOWN_ROWS
    if hidden > 0 or report.rejected_rows_truncated:
        typer.echo("  … more rejected rows (see quarantine.csv / import_report.json)", err=True)
    typer.echo(f"accepted {report.accepted} row(s), rejected {report.rejected} row(s)")


def _print_inspection(files: list[FileInspection]) -> None:
    for file in files:
        typer.echo(
            f"{file.file}: read as {file.table} [{file.encoding or 'workbook'}], "
            f"header row {file.header_row}"
        )
        for column in file.columns:
            typer.echo(f"    {column.header} → {column.read_as}")
        for row in file.sample:
            typer.echo("    sample: " + ", ".join(f"{k}={v}" for k, v in row.items()))
        for problem in file.sample_problems:
            typer.echo(f"    ✗ {problem}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``import`` command."""

    @app.command("import")
    def import_command(
        paths: Annotated[list[Path], typer.Argument(help="CSV/XLSX/XLS files or folders of them.")],
        out: Annotated[
            Path | None, typer.Option("--out", help="Province directory to merge into.")
        ] = None,
        on_error: Annotated[
            Literal["reject", "quarantine"],
            typer.Option(
                "--on-error",
                help="reject: write nothing if any row is bad; "
                "quarantine: write good rows, bad rows to quarantine.csv.",
            ),
        ] = "reject",
        format: Annotated[
            Literal["parquet", "csv"] | None,
            typer.Option("--format", help="Table format (default: keep the existing one)."),
        ] = None,
        catalog: Annotated[
            Path | None, typer.Option("--catalog", help="Catalog file (default: shipped).")
        ] = None,
        framework_file: Annotated[
            Path | None, typer.Option("--framework", help="Framework or overlay file.")
        ] = None,
        inspect: Annotated[
            bool,
            typer.Option("--inspect", help="Show how each file will be read; write nothing."),
        ] = False,
        mapping: Annotated[
            Path | None,
            typer.Option("--mapping", help="Mapping file (per file: column → field, values)."),
        ] = None,
        vocabulary: Annotated[
            Path | None,
            typer.Option(
                "--vocabulary",
                envvar="NENGLI_VOCABULARY",
                help="Province vocabulary file extending the stage/subject spellings.",
            ),
        ] = None,
        region: Annotated[
            str | None, typer.Option("--region", help="Region of schools without one.")
        ] = None,
        city: Annotated[
            str | None, typer.Option("--city", help="City of schools without one.")
        ] = None,
        district: Annotated[
            str | None, typer.Option("--district", help="District of schools without one.")
        ] = None,
        export_date: Annotated[
            dt.datetime | None,
            typer.Option(
                "--export-date",
                formats=["%Y-%m-%d"],
                help="Day the export was taken; undated grades get it (flagged).",
            ),
        ] = None,
        missing_schools: Annotated[
            Literal["infer", "reject"],
            typer.Option(
                "--missing-schools",
                help="Teachers whose school is not known: infer the school (flagged) or reject "
                "the rows.",
            ),
        ] = "infer",
        quiet: QuietOption = False,
    ) -> None:
        """Import platform exports (teachers, schools, learning records, assessments)."""
        from competency_model.catalog import default_catalog, load_catalog
        from competency_model.vocabulary import load_vocabulary
        from training_data.imports import (
            existing_school_ids,
            existing_teacher_ids,
            import_files,
            write_import,
        )
        from training_data.imports.inspect import inspect_files
        from training_data.imports.options import ImportOptions, load_mapping

        framework = resolve_framework(framework_file)
        course_catalog = (
            load_catalog(catalog, framework)
            if catalog
            else default_catalog()
            if framework_file is None
            else load_catalog(None, framework)
        )
        options = ImportOptions(
            region=region,
            city=city,
            district=district,
            export_date=export_date.date() if export_date else None,
            missing_schools=missing_schools,
            mapping=load_mapping(mapping) if mapping else None,
        )
        vocab = load_vocabulary(vocabulary)
        if inspect:
            _print_inspection(
                inspect_files(
                    paths, options, framework=framework, catalog=course_catalog, vocabulary=vocab
                )
            )
        elif out is None:
            raise ImportRowError("--out DIR is required (or use --inspect to only look)")
        with cli_progress(quiet) as progress:
            result = import_files(
                paths,
                framework=framework,
                catalog=course_catalog,
                known_teacher_ids=existing_teacher_ids(out) if out else None,
                options=options,
                vocabulary=vocab,
                known_school_ids=existing_school_ids(out) if out else None,
                progress=progress,
            )
        if inspect or out is None:
            print_warnings(result.report)
            typer.echo("inspect: nothing was written")
            return
        _print_report(result.report)  # before writing: a refused write still shows its rows
        with cli_progress(quiet) as progress:
            progress.stage(f"写入 writing {out}")
            report = write_import(result, out, mode=on_error, format=format)
        summary = ", ".join(
            f"{t} +{report.inserted[t]} ~{report.updated[t]}" for t in report.inserted
        )
        typer.echo(f"wrote {report.out_dir} ({summary})")
