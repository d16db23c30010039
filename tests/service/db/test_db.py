"""Database layer: migrations match the models, SQLite pragmas, append-only audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError

from service.db.engine import make_engine
from service.db.migrate import alembic_config, current_revision, upgrade_database
from service.db.models import AuditEntry, Base, Teacher


def test_migrated_schema_matches_models(client) -> None:  # type: ignore[no-untyped-def]
    engine = client.app.state.nengli.engine
    with engine.connect() as connection:
        partitions: set[str] = set()
        if engine.dialect.name == "postgresql":
            # Partitions of a partitioned table (0007) are storage, not tables of the model.
            partitions = set(
                connection.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    )
                ).scalars()
            )
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, _: not (kind == "table" and name in partitions)
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    upgrade_database(engine)
    upgrade_database(engine)
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current_revision(engine) == head
    engine.dispose()


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'y.sqlite'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_teacher_needs_existing_school(client) -> None:  # type: ignore[no-untyped-def]
    with client.app.state.nengli.sessions() as session:
        session.add(
            Teacher(
                teacher_id="TFK",
                school_id="S-missing",
                region="江苏",
                stage="小学",
                subject="数学",
                updated_at=datetime.now(UTC),
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
)
def test_audit_log_is_append_only(client, statement: str) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        session.add(AuditEntry(at=datetime.now(UTC), key_id="k", role="admin", action="probe"))
        session.commit()
        with pytest.raises(DatabaseError):
            session.execute(text(statement))
            session.commit()
        session.rollback()
