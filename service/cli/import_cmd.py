"""``nengli import FILE_OR_DIR … --out DIR``: load platform exports into a province directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from competency_model.catalog import default_catalog, load_catalog
from service.cli.framework_cmd import resolve_framework
from training_data.imports import (
    ImportReport,
    existing_teacher_ids,
    import_files,
    write_import,
)

_SHOWN_ROWS = 20


def _print_report(report: ImportReport) -> None:
    for file in report.files:
        extras = ""
        if file.dropped_private_columns:
            extras += f"; dropped (privacy) {', '.join(file.dropped_private_columns)}"
        if file.ignored_columns:
            extras += f"; ignored {', '.join(file.ignored_columns)}"
        typer.echo(
            f"{file.file}: {file.table} [{file.encoding or 'xlsx'}] rows={file.rows} "
            f"accepted={file.accepted} rejected={file.rejected}{extras}"
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


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``import`` command."""

    @app.command("import")
    def import_command(
        paths: Annotated[list[Path], typer.Argument(help="CSV/XLSX files or folders of them.")],
        out: Annotated[Path, typer.Option("--out", help="Province directory to merge into.")],
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
    ) -> None:
        """Import platform exports (teachers, schools, learning records, assessments)."""
        framework = resolve_framework(framework_file)
        course_catalog = (
            load_catalog(catalog, framework)
            if catalog
            else default_catalog()
            if framework_file is None
            else load_catalog(None, framework)
        )
        result = import_files(
            paths,
            framework=framework,
            catalog=course_catalog,
            known_teacher_ids=existing_teacher_ids(out),
        )
        _print_report(result.report)
        report = write_import(result, out, mode=on_error, format=format)
        summary = ", ".join(
            f"{t} +{report.inserted[t]} ~{report.updated[t]}" for t in report.inserted
        )
        typer.echo(f"wrote {report.out_dir} ({summary})")
