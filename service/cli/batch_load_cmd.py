"""``nengli batch-load FILE``: load a province's precomputed lists and switch to them.

The batch (``nengli batch``) writes one Parquet file per province; this command stores it in
the database of ``NENGLI_DATABASE_URL`` beside the lists being served and switches the province
to it in one transaction (see :mod:`service.db.list_store`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from service.cli.progress import QuietOption, cli_progress


def batch_load(
    files: list[Path] = typer.Argument(..., help="Parquet list files (one per province)."),
    quiet: QuietOption = False,
) -> None:
    """Load precomputed lists (teacher_id, kind, item_id, rank, score, model_version)."""
    for file in files:
        if not file.is_file():
            typer.echo(f"error: {file}: no such file", err=True)
            raise typer.Exit(2)
    from service.db.engine import make_engine, make_session_factory
    from service.db.list_store import load_lists
    from service.db.migrate import upgrade_database
    from service.settings import get_settings

    engine = make_engine(get_settings().database_url)
    loaded_files = []
    try:
        with cli_progress(quiet) as progress:
            progress.stage("迁移 migrating the database")
            upgrade_database(engine)
            sessions = make_session_factory(engine)
            for file in files:
                progress.stage(f"载入 loading {file.name}")
                with sessions() as session:
                    loaded_files.append((file, load_lists(session, file)))
    finally:
        engine.dispose()
    for file, loaded in loaded_files:
        typer.echo(json.dumps({"file": str(file), **loaded.__dict__}, ensure_ascii=False))


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli batch-load``."""
    app.command("batch-load")(batch_load)
