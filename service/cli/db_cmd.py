"""``nengli db upgrade|current|backup``: migrations, and a consistent backup of the database."""

from __future__ import annotations

from pathlib import Path

import typer

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


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli db``."""
    app.add_typer(db_app, name="db")
