"""``nengli keys`` and ``nengli db``: keys printed once and usable, migrations idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.auth import authenticate
from service.cli.main import app
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.db.models import School, Teacher
from service.settings import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("NENGLI_DATABASE_URL", url)
    get_settings.cache_clear()
    _seed(url)  # keys are only issued for schools and teachers that exist
    yield url
    get_settings.cache_clear()


def _seed(url: str) -> None:
    engine = make_engine(url)
    upgrade_database(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as session:
        session.add(
            School(school_id="S000001", region="江苏", environment="blended", updated_at=now)
        )
        session.flush()
        session.add(
            Teacher(
                teacher_id="T0000001",
                school_id="S000001",
                region="江苏",
                stage="小学",
                subject="数学",
                updated_at=now,
            )
        )
        session.commit()
    engine.dispose()


def test_db_upgrade_then_current(database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    current = runner.invoke(app, ["db", "current"])
    assert current.exit_code == 0 and current.output.strip() != "not migrated"


@pytest.mark.parametrize(
    ("args", "role", "scope"),
    [
        (["--role", "platform", "--region", "江苏"], "platform", "江苏"),
        (["--role", "school", "--school", "S000001"], "school", "S000001"),
        (["--role", "teacher", "--teacher", "T0000001"], "teacher", "T0000001"),
        (["--role", "admin"], "admin", None),
    ],
)
def test_keys_create_prints_a_working_key(
    database: str, args: list[str], role: str, scope: str | None
) -> None:
    result = CliRunner().invoke(app, ["keys", "create", *args])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        principal = authenticate(session, f"Bearer {token}")
    engine.dispose()
    assert (principal.role, principal.scope) == (role, scope)


def test_keys_create_without_scope_fails(database: str) -> None:
    result = CliRunner().invoke(app, ["keys", "create", "--role", "school"])
    assert result.exit_code != 0
