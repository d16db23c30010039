"""``nengli assessment export``: one school's e-portfolios in one file, for the 县区 spot check (抽检);
``nengli assessment export-results``: every result in the versioned format the province imports.

The same export as ``GET /v1/schools/{id}/assessment?format=…``, read straight from the
configured database, for district staff who receive files rather than API access.
"""

from __future__ import annotations

from pathlib import Path

import typer

from competency_model.errors import NotFoundError
from service.cli._common import service_state

assessment_app = typer.Typer(help="School-based assessment (校本应用考核).", no_args_is_help=True)
FORMATS = ("json", "html", "xlsx")


def export_school(
    school_id: str, fmt: str, out: Path, policy: str | None = None, database_url: str | None = None
) -> int:
    """Write the school's export to ``out``; return the number of teachers in it."""
    from competency_model.assessment import school_export
    from service.db.models import School
    from service.usecases.assessment_portfolio import school_portfolios

    if fmt not in FORMATS:
        raise NotFoundError(f"format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
    with service_state(database_url) as state, state.sessions() as session:
        school = session.get(School, school_id)
        if school is None:
            raise NotFoundError(f"school {school_id!r} not found in {state.engine.url.database}")
        portfolios = school_portfolios(session, state, school, policy)
    out.write_bytes(school_export(portfolios, school_id, fmt))  # type: ignore[arg-type]
    return len(portfolios)


@assessment_app.command("export")
def export(
    school: str = typer.Option(..., help="school_id to export."),
    out: Path = typer.Option(..., help="File to write."),
    format: str = typer.Option("xlsx", help="xlsx | html | json"),
    policy: str | None = typer.Option(None, help="Policy name; default: the region's."),
) -> None:
    """Write every teacher's portfolio of one school into one file."""
    n = export_school(school, format, out, policy)
    typer.echo(f"wrote {n} teacher portfolio(s) of {school} to {out}")


@assessment_app.command("export-results")
def export_results(
    data: Path = typer.Option(
        ..., "--data", help="Province directory (as `nengli import` writes)."
    ),
    out: Path = typer.Option(..., help="CSV file to write (a .manifest.json is written beside)."),
    school: list[str] = typer.Option([], "--school", help="Only these schools (repeatable)."),
) -> None:
    """Write the latest assessment result per teacher × point in the versioned results format."""
    from competency_model.assessment.results_export import (
        assessment_results,
        write_assessment_results,
    )
    from competency_model.framework_files import active_framework
    from competency_model.province import read_province

    province = read_province(data)
    table = assessment_results(
        province.grades, province.teachers, active_framework(), school or None
    )
    manifest = write_assessment_results(table, out)
    typer.echo(
        f"wrote {manifest['rows']} result(s) to {out} "
        f"({manifest['format']} v{manifest['version']}, sha256 {str(manifest['sha256'])[:12]}…)"
    )


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli assessment …`` to the CLI."""
    app.add_typer(assessment_app, name="assessment")
