"""``nengli retention apply [--dry-run]``: delete rows older than each table's retention rule."""

from __future__ import annotations

import json

import typer

from competency_model.errors import NengliError

retention_app = typer.Typer(help="Retention rules per table (PIPL).", no_args_is_help=True)


@retention_app.command("apply")
def apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; delete nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Apply NENGLI_RETENTION_EVENTS_DAYS, _ANSWERS_DAYS and _AUDIT_DAYS; report rows per table."""
    from pydantic import ValidationError

    from service.cli.key_checks import configured_database_url
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.settings import get_settings
    from service.usecases.retention import apply_retention

    try:
        settings = get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"NENGLI_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        raise NengliError(f"设置无效 / invalid settings: {problems}") from None
    engine = make_engine(configured_database_url(settings))
    try:
        upgrade_database(engine)
        with make_session_factory(engine)() as session:
            outcomes = apply_retention(session, settings, dry_run=dry_run)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([o.to_dict() for o in outcomes], ensure_ascii=False, indent=2))
        return
    verb = "将删除 / would delete" if dry_run else "已删除 / deleted"
    typer.echo(f"{'table':<10} {'days':>6}  {'horizon (UTC)':<25} {verb}")
    for o in outcomes:
        if o.days is None:
            typer.echo(f"{o.table:<10} {'-':>6}  {'无规则 / no rule, kept':<25} 0")
        else:
            assert o.horizon is not None
            typer.echo(f"{o.table:<10} {o.days:>6}  {o.horizon:%Y-%m-%d %H:%M:%S}       {o.rows}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli retention``."""
    app.add_typer(retention_app, name="retention")
