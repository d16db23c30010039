"""``nengli teachers erase ID``: erase a teacher from the database (PIPL art. 47).

The same use case as ``DELETE /v1/teachers/{id}``, run by an operator with database access:
the tombstone names ``cli:<user>`` as who erased. Running servers drop the teacher from their
model within ``NENGLI_RELOAD_POLL_SECONDS``.
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from service.auth import Principal

teachers_app = typer.Typer(help="Teachers' personal data (PIPL).", no_args_is_help=True)


def operator() -> Principal:
    """The operator at the terminal, as the tombstone and audit name them."""
    from service.auth import Principal

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "unknown"
    return Principal(key_id=f"cli:{user}"[:32], role="admin", scope=None)


@teachers_app.command("erase")
def erase(
    teacher_id: str = typer.Argument(..., help="The teacher to erase, e.g. T0000001."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Delete the teacher's personal rows at once; progress counts and a tombstone remain."""
    from competency_model.catalog import load_catalog
    from competency_model.framework_files import active_framework
    from service.cli.key_checks import configured_database_url
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.settings import get_settings
    from service.usecases.erasure import erase_teacher

    settings = get_settings()
    engine = make_engine(configured_database_url(settings))
    try:
        upgrade_database(engine)
        catalog = load_catalog(framework=active_framework(settings.framework_file))
        with make_session_factory(engine)() as session:
            result = erase_teacher(session, operator(), teacher_id, catalog)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"已删除教师 {teacher_id} 的个人数据 / erased teacher {teacher_id}")
    for table, count in sorted(result.rows_deleted.items()):
        typer.echo(f"  {table:<22} {count:>8}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli teachers``."""
    app.add_typer(teachers_app, name="teachers")
