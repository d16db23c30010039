"""Retention rules per table, applied by ``nengli retention apply [--dry-run]``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from service.cli.main import app as cli
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.db.models import AuditEntry, Event, Response, RetentionRun, School, Teacher
from service.settings import Settings, get_settings
from service.usecases.retention import apply_retention
from tests.service.conftest import POSTGRES_ENV, _postgres_schema_url

NOW = datetime(2026, 12, 1, tzinfo=UTC)
AGES_DAYS = (10, 100, 400, 2000)  # one row of each table per age


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'retention.sqlite'}"])
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        urls = _postgres_schema_url(base)
    engine = make_engine(next(urls))
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        session.add(School(school_id="S1", region="江苏", environment="smart", updated_at=NOW))
        session.flush()
        session.add(
            Teacher(
                teacher_id="T1",
                school_id="S1",
                region="江苏",
                stage="小学",
                subject="数学",
                updated_at=NOW,
            )
        )
        session.flush()
        for n, days in enumerate(AGES_DAYS):
            at = NOW - timedelta(days=days)
            session.add(
                Event(
                    tenant="admin:*",
                    region="江苏",
                    event_id=f"e{n}",
                    teacher_id="T1",
                    event="enrol",
                    item_id="CRS-0001",
                    timestamp=at,
                    content_hash="x",
                    received_at=at,
                )
            )
            answer = Response(
                teacher_id="T1", region="江苏", item_id=f"Q{n}", response=1.0, answered_at=at
            )
            session.add(answer)
            session.add(AuditEntry(at=at, key_id="k", role="admin", action="read_teacher"))
        session.commit()
    yield engine
    engine.dispose()
    for _rest in urls:
        pass


def _counts(engine: Engine) -> dict[str, int]:
    with make_session_factory(engine)() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in (
                ("events", Event),
                ("responses", Response),
                ("audit_log", AuditEntry),
            )
        }


def _settings(engine: Engine, **rules: int | None) -> Settings:
    return Settings(database_url=engine.url.render_as_string(hide_password=False), **rules)


def test_dry_run_counts_and_deletes_nothing(engine: Engine) -> None:
    settings = _settings(
        engine, retention_events_days=365, retention_answers_days=50, retention_audit_days=1095
    )
    with make_session_factory(engine)() as session:
        outcomes = apply_retention(session, settings, dry_run=True, now=NOW)
    assert {o.table: o.rows for o in outcomes} == {"events": 2, "responses": 3, "audit_log": 1}
    assert _counts(engine) == {"events": 4, "responses": 4, "audit_log": 4}
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(RetentionRun)) == 0


def test_apply_deletes_only_rows_past_each_rule(engine: Engine) -> None:
    settings = _settings(engine, retention_events_days=365, retention_audit_days=1095)
    with make_session_factory(engine)() as session:
        outcomes = apply_retention(session, settings, dry_run=False, now=NOW)
    assert {o.table: o.rows for o in outcomes} == {"events": 2, "responses": 0, "audit_log": 1}
    assert _counts(engine) == {"events": 2, "responses": 4, "audit_log": 3}  # no answer rule
    with make_session_factory(engine)() as session:
        runs = session.execute(select(RetentionRun.table_name, RetentionRun.deleted)).all()
    assert sorted(map(tuple, runs)) == [("audit_log", 1), ("events", 2)]


def test_audit_rows_inside_the_horizon_stay_append_only(engine: Engine) -> None:
    settings = _settings(engine, retention_audit_days=1095)
    with make_session_factory(engine)() as session:
        apply_retention(session, settings, dry_run=False, now=NOW)
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
    assert _counts(engine)["audit_log"] == 3


def test_cli_reports_counts_per_table(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NENGLI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("NENGLI_RETENTION_ANSWERS_DAYS", "50")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["retention", "apply", "--dry-run"])
        assert result.exit_code == 0, result.output
        lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
        assert lines["responses"][1] == "50" and lines["responses"][-1] == "3"
        assert lines["events"][-1] == "0" and "no" in lines["events"]
        applied = CliRunner().invoke(cli, ["retention", "apply", "--json"])
        assert applied.exit_code == 0, applied.output
        assert '"rows": 3' in applied.output
        assert _counts(engine)["responses"] == 1
    finally:
        get_settings.cache_clear()


def test_cli_refuses_a_bad_rule_with_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.cli.main import main

    monkeypatch.setenv("NENGLI_RETENTION_EVENTS_DAYS", "-3")
    monkeypatch.setattr("sys.argv", ["nengli", "retention", "apply", "--dry-run"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 2
