"""Engine and session factory.

SQLite gets WAL (readers never block the writer), ``foreign_keys=ON`` (off by default in SQLite)
and a busy timeout so concurrent request threads wait for the write lock instead of failing.
PostgreSQL needs nothing special; its schema can be chosen with
``?options=-csearch_path%3Dname`` in the URL, which the tests use for isolation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service.db.row_security import install_row_security


def make_engine(
    database_url: str,
    *,
    checkpoint_on_commit: bool = True,
    lock_wait_seconds: float = 30.0,
    pre_ping: bool = True,
    pool_size: int = 10,
    max_overflow: int = 20,
) -> Engine:
    """Create an engine for ``database_url`` with the per-dialect settings described above.

    ``pre_ping=False`` (server databases): no ``SELECT 1`` round trip each time a connection
    leaves the pool; for a caller that sends its read again itself when the connection turns
    out closed (:func:`service.db.driver_query.run_together`). ``pool_size`` and
    ``max_overflow`` (server databases) are SQLAlchemy's: connections kept, and opened beyond
    them while busy and closed when returned.

    ``checkpoint_on_commit=False`` (SQLite only) turns off the automatic WAL checkpoint that
    SQLite runs inside the commit that fills the log: for a writer whose commits someone waits
    on (the audit group commit), which then checkpoints off that path itself.
    ``lock_wait_seconds`` (SQLite only) is how long a write waits for another connection's
    write lock before failing with "database is locked" (0: fail at once).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=pre_ping, pool_size=pool_size, max_overflow=max_overflow
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": lock_wait_seconds}
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_wait_seconds * 1000)}")
        if not checkpoint_on_commit:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit.

    Its sessions limit themselves to a caller's region once :func:`scope_session` marks them
    (PostgreSQL row-level security, :mod:`service.db.row_security`).
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    install_row_security(factory)
    return factory
