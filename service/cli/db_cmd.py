"""``nengli db upgrade|current|backup|warm``: migrations, a consistent backup of the database, and
the dashboards' first-read work done ahead of the readers."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from service.cli.progress import QuietOption, cli_progress

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database of NENGLI_DATABASE_URL to ``revision`` (default: head)."""
    from service.db.engine import make_engine
    from service.db.migrate import current_revision, upgrade_database
    from service.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        upgrade_database(engine, revision)
        typer.echo(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@db_app.command("current")
def current() -> None:
    """Print the revision the database is at."""
    from service.db.engine import make_engine
    from service.db.migrate import current_revision
    from service.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        typer.echo(current_revision(engine) or "not migrated")
    finally:
        engine.dispose()


@db_app.command("backup")
def backup(
    target: Path = typer.Argument(..., help="New file to write (.sqlite, or .dump for pg_dump)."),
) -> None:
    """Back up the database while it serves (SQLite online backup API, or pg_dump -Fc)."""
    from sqlalchemy.engine import make_url

    from service.db.backup import backup_database
    from service.settings import get_settings

    url = get_settings().database_url
    size = backup_database(url, target)
    typer.echo(f"已备份 / backed up {make_url(url).get_backend_name()} → {target} ({size} bytes)")


@db_app.command("warm")
def warm(
    region: list[str] = typer.Option(
        [], "--region", help="Region to warm (repeatable; default: every region with schools)."
    ),
    chunk_schools: int = typer.Option(
        200, "--chunk-schools", min=1, help="Schools diagnosed per committed chunk."
    ),
    policy: str | None = typer.Option(None, "--policy", help="Policy name; default: the region's."),
    quiet: QuietOption = False,
) -> None:
    """Diagnose stale schools, refresh the school aggregates and store the pairing of each
    region, so the first dashboard reader after an import or a new model waits no longer than
    the next. 导入或换模型后预先计算各地区的诊断、汇总与结对，首个看板请求不再等待。"""
    from service.cli._common import served_state
    from service.usecases.warm import regions_with_schools, warm_region

    with served_state() as state:
        regions = list(region) or regions_with_schools(state)
        reports = []
        with cli_progress(quiet) as progress:
            for name in regions:
                progress.stage(f"预热 warming {name}")

                def on_chunk(done: int, total: int, name: str = name) -> None:
                    if done == 1:
                        progress.stage(f"诊断 diagnosing {name} (chunks of schools)", total=total)
                    progress.advance()

                reports.append(
                    warm_region(
                        state, name, chunk_schools=chunk_schools, policy=policy, on_chunk=on_chunk
                    )
                )
    for report in reports:
        typer.echo(json.dumps(report.__dict__, ensure_ascii=False))


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli db``."""
    app.add_typer(db_app, name="db")
