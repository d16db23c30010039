"""``nengli keys list|create|rotate|revoke``: the API key lifecycle from the command line.

A token is printed once (stdout, alone, so ``$(nengli keys create …)`` captures it) and stored
only hashed; ``list`` never shows a secret. Exit codes: 0 done, 1 refused by a rule (rotating a
revoked or expired key), 2 bad input (unknown key id, bad duration or time).

A key revoked or rotated here is refused by running servers within their key cache's lifetime
(5 s, :class:`service.auth.KeyCache`); ``last used`` is written by servers at most once a
minute per key, so it can be up to a minute behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer

from competency_model.errors import ConflictError, NengliError

if TYPE_CHECKING:  # the database stack loads only when a command runs (fast --help)
    from sqlalchemy.orm import Session

    from service.usecases.keys import KeyInfo

keys_app = typer.Typer(
    help="List, create, rotate and revoke API keys / 管理 API 密钥.", no_args_is_help=True
)


@contextmanager
def _session(database_url: str | None = None) -> Iterator[Session]:
    """A session on the configured (migrated) database; the engine is disposed afterwards."""
    from service.cli.key_checks import configured_database_url
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.settings import get_settings

    engine = make_engine(database_url or configured_database_url(get_settings()))
    try:
        upgrade_database(engine)
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def issue_key(
    role: str,
    region: str | None = None,
    school: str | None = None,
    teacher: str | None = None,
    label: str | None = None,
    database_url: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Create a key in the configured database and return its token (shown only once)."""
    from service.usecases.keys import issue_key as issue_key_row

    scope = {"platform": region, "school": school, "teacher": teacher}.get(role)
    given = [
        flag
        for flag, value in (("--region", region), ("--school", school), ("--teacher", teacher))
        if value
    ]
    if role == "admin" and given:
        raise NengliError(f"an admin key takes no scope; drop {given[0]}")
    with _session(database_url) as session:
        token, _info = issue_key_row(session, role, scope, label, expires_at=expires_at)
        session.commit()
    return token


def _when(moment: datetime | None, never: str = "-") -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else never


_COLUMNS = ("id", "label", "role", "scope", "created", "expires", "last used", "status")


def _row(info: KeyInfo, now: datetime) -> tuple[str, ...]:
    status: str = info.status(now)
    if status == "revoked":
        status = f"revoked {_when(info.revoked_at)}"
    elif info.previous_valid_until is not None and info.previous_valid_until > now:
        status = f"rotated, old valid to {_when(info.previous_valid_until)}"
    return (
        info.key_id,
        info.label or "",
        info.role,
        info.scope or "",
        _when(info.created_at),
        _when(info.expires_at, "never"),
        _when(info.last_used_at, "never"),
        status,
    )


@keys_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="One JSON array (times in ISO 8601 UTC)."),
    active: bool = typer.Option(False, "--active", help="Leave revoked keys out."),
) -> None:
    """List keys: id, label, role, scope, created, expires, last used, status; never a secret."""
    from service.usecases.keys import list_keys

    now = datetime.now(UTC)
    with _session() as session:
        keys = list_keys(session, include_revoked=not active)
    if as_json:
        typer.echo(json.dumps([info.to_dict(now) for info in keys], ensure_ascii=False, indent=2))
        return
    rows = [_COLUMNS, *(_row(info, now) for info in keys)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    if not keys:
        typer.echo("（没有密钥 / no keys yet: nengli keys create --role …）")


@keys_app.command("create")
def create(
    role: str = typer.Option(..., help="admin | platform | school | teacher"),
    region: str | None = typer.Option(None, help="Region of a platform key, e.g. 江苏."),
    school: str | None = typer.Option(None, help="school_id of a school key."),
    teacher: str | None = typer.Option(None, help="teacher_id of a teacher key."),
    label: str | None = typer.Option(None, help="Free text to recognise the key later."),
    expires_in: str | None = typer.Option(
        None, help="Lifetime from now: 90d, 24h, 1d12h, 30m, 2w (default: never expires)."
    ),
    expires_at: str | None = typer.Option(
        None, help="Expiry as ISO 8601, e.g. 2027-07-01T00:00+08:00 (no offset: UTC)."
    ),
) -> None:
    """Create a key and print it; store it now, it cannot be shown again."""
    from service.usecases.keys import expiry_from

    expiry = expiry_from(expires_in, expires_at)
    typer.echo(issue_key(role, region, school, teacher, label, expires_at=expiry))
    if expiry is not None:
        typer.echo(f"expires {expiry.isoformat()}", err=True)


@keys_app.command("rotate")
def rotate_command(
    key_id: str = typer.Argument(..., help="The key's id (middle part of nl_<key_id>_<secret>)."),
    grace: str | None = typer.Option(
        None, help="Keep the old secret valid this long, e.g. 24h (default: refused at once)."
    ),
) -> None:
    """Give a key a new secret and print it; the old secret is refused after the grace period."""
    from service.usecases.keys import parse_duration, rotate

    period = parse_duration(grace, "--grace") if grace is not None else timedelta(0)
    with _session() as session:
        try:
            token, info = rotate(session, key_id, period)
        except ConflictError as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(1) from None
        session.commit()
    typer.echo(token)
    if period > timedelta(0) and info.previous_valid_until is not None:
        typer.echo(f"old secret valid until {info.previous_valid_until.isoformat()}", err=True)
    else:
        typer.echo("old secret refused from now on", err=True)


@keys_app.command("revoke")
def revoke_command(
    key_id: str = typer.Argument(..., help="The key's id (middle part of nl_<key_id>_<secret>)."),
) -> None:
    """Revoke a key at once (requests with it answer 401; running servers within 5 s)."""
    from service.usecases.keys import revoke

    with _session() as session:
        info = revoke(session, key_id)
        session.commit()
    typer.echo(f"revoked {key_id} at {_when(info.revoked_at)} UTC")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach ``nengli keys``."""
    app.add_typer(keys_app, name="keys")
