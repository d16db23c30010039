"""``nengli keys create|revoke``: issue API keys (the token is printed once, stored hashed)."""

from __future__ import annotations

import typer

from competency_model.errors import NengliError

keys_app = typer.Typer(help="Create and revoke API keys.", no_args_is_help=True)


def issue_key(
    role: str,
    region: str | None = None,
    school: str | None = None,
    teacher: str | None = None,
    label: str | None = None,
    database_url: str | None = None,
) -> str:
    """Create a key in the configured database and return its token (shown only once)."""
    from service.auth import create_key
    from service.cli.key_checks import check_key_scope, configured_database_url
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.settings import get_settings

    scope = {"platform": region, "school": school, "teacher": teacher}.get(role)
    given = [
        flag
        for flag, value in (("--region", region), ("--school", school), ("--teacher", teacher))
        if value
    ]
    if role == "admin" and given:
        raise NengliError(f"an admin key takes no scope; drop {given[0]}")
    engine = make_engine(database_url or configured_database_url(get_settings()))
    try:
        upgrade_database(engine)
        with make_session_factory(engine)() as session:
            check_key_scope(session, role, scope)
            token, _row = create_key(session, role, scope, label)
            session.commit()
    finally:
        engine.dispose()
    return token


@keys_app.command("create")
def create(
    role: str = typer.Option(..., help="admin | platform | school | teacher"),
    region: str | None = typer.Option(None, help="Region of a platform key, e.g. 江苏."),
    school: str | None = typer.Option(None, help="school_id of a school key."),
    teacher: str | None = typer.Option(None, help="teacher_id of a teacher key."),
    label: str | None = typer.Option(None, help="Free text to recognise the key later."),
) -> None:
    """Create a key and print it; store it now, it cannot be shown again."""
    typer.echo(issue_key(role, region, school, teacher, label))


@keys_app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="The middle part of nl_<key_id>_<secret>."),
) -> None:
    """Revoke a key at once (requests with it answer 401)."""
    from service.auth import revoke_key
    from service.db.engine import make_engine, make_session_factory
    from service.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            if not revoke_key(session, key_id):
                raise NengliError(f"no key with id {key_id!r}")
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"revoked {key_id}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli keys``."""
    app.add_typer(keys_app, name="keys")
