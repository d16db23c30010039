"""Consistent backups of the service database while it serves.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by page
under a read transaction, so a backup taken during writes is a consistent snapshot (WAL
included), unlike copying the file. PostgreSQL: ``pg_dump --format=custom``, restored with
``pg_restore``; it too reads one snapshot.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from competency_model.errors import NengliError

__all__ = ["backup_database"]


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise NengliError(f"SQLite database {source} does not exist; check NENGLI_DATABASE_URL")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with sqlite3.connect(target) as check:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise NengliError(f"the backup {target} failed its integrity check: {result}")


def _postgres_backup(url: str, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise NengliError("pg_dump is not installed; install the PostgreSQL client tools")
    parsed = make_url(url).set(drivername="postgresql")
    options = parsed.query.get("options")
    libpq = parsed.set(query={}).render_as_string(hide_password=False)
    env = {"PGOPTIONS": str(options)} if options else {}
    done = subprocess.run(
        [pg_dump, "--format=custom", f"--file={target}", libpq],
        capture_output=True,
        text=True,
        env={**_base_env(), **env},
        check=False,
    )
    if done.returncode != 0:
        raise NengliError(f"pg_dump failed: {done.stderr.strip()[:500]}")


def _base_env() -> dict[str, str]:
    return dict(os.environ)


def backup_database(url: str, target: Path) -> int:
    """Write a consistent backup of the database at ``url`` to ``target``; its size in bytes."""
    target = Path(target)
    if target.exists():
        raise NengliError(
            f"{target} already exists; choose a new file (backups are never overwritten)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise NengliError("an in-memory SQLite database cannot be backed up")
        _sqlite_backup(Path(parsed.database), target)
    elif backend == "postgresql":
        _postgres_backup(url, target)
    else:
        raise NengliError(f"no backup method for {backend!r} databases")
    return target.stat().st_size
