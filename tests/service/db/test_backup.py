"""``nengli db backup``: SQLite's online backup API and pg_dump, each restorable."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from competency_model.errors import NengliError
from service.cli.main import app as cli
from service.db.backup import backup_database
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.db.models import School
from service.settings import get_settings
from tests.service.conftest import POSTGRES_ENV, _postgres_schema_url


def _database(url: str) -> None:
    engine = make_engine(url)
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        for n in range(3):
            session.add(
                School(
                    school_id=f"S{n}",
                    region="江苏",
                    environment="smart",
                    updated_at=datetime.now(UTC),
                )
            )
        session.commit()
    engine.dispose()


def test_sqlite_backup_while_open_is_a_consistent_copy(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    _database(url)
    holder = make_engine(url)  # a server holding the database open, its WAL not checkpointed
    with holder.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        monkeypatch.setenv("NENGLI_DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, ["db", "backup", str(tmp_path / "b.sqlite")])
        finally:
            get_settings.cache_clear()
    holder.dispose()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "b.sqlite") as copy:
        assert copy.execute("SELECT count(*) FROM schools").fetchone()[0] == 3
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_backup_never_overwrites(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    _database(url)
    (tmp_path / "taken.sqlite").write_bytes(b"keep me")
    with pytest.raises(NengliError, match="already exists"):
        backup_database(url, tmp_path / "taken.sqlite")
    assert (tmp_path / "taken.sqlite").read_bytes() == b"keep me"


@pytest.mark.postgres
def test_postgres_backup_restores_with_pg_restore(tmp_path: Path) -> None:
    base = os.environ.get(POSTGRES_ENV)
    if not base or shutil.which("pg_restore") is None:
        pytest.skip(f"{POSTGRES_ENV} is not set or pg_restore is missing")
    urls = _postgres_schema_url(base)
    url = next(urls)
    try:
        _database(url)
        size = backup_database(url, tmp_path / "nengli.dump")
        assert size > 0
        listing = subprocess.run(
            ["pg_restore", "--list", str(tmp_path / "nengli.dump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "TABLE DATA" in listing and " schools " in listing
    finally:
        for _rest in urls:
            pass
