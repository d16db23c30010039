"""PIPL erasure: DELETE /v1/teachers/{id} and ``nengli teachers erase`` (SQLite and PostgreSQL).

Each test builds an app over a fresh database of its own (the shared session world must keep
its teachers), loads the small simulated province and erases one of its teachers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from competency_model.errors import NotFoundError
from competency_model.province import Province
from service.app import create_app
from service.auth import Principal, create_key
from service.cli.main import app as cli
from service.db.assessment_models import (
    EvidenceItemRow,
    EvidenceReviewRow,
    EvidenceSubmission,
    PeerAssignmentRow,
)
from service.db.erasure_models import TeacherErasure
from service.db.stores.province import store_tables
from service.settings import Settings, get_settings
from tests.service.conftest import POSTGRES_ENV, TestClient, _postgres_schema_url, assert_problem

REGION = "江苏"
#: Tables whose rows name a teacher; after an erasure only the tombstone and audit keep the id.
PERSONAL_TABLES = {
    "teachers": "teacher_id",
    "responses": "teacher_id",
    "grades": "teacher_id",
    "events": "teacher_id",
    "evidence_submissions": "teacher_id",
    "peer_assignments": "reviewer_id",
    "evidence_reviews": "reviewer_id",
    "api_keys": "scope",
}


@dataclass
class Erasable:
    client: TestClient
    headers: dict[str, dict[str, str]]
    victim: str
    school: str
    colleague: str
    sibling_school_teacher: str
    school_key_id: str


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def erasable(
    request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path, province: Province
) -> Iterator[Erasable]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'erase.sqlite'}"])
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        urls = _postgres_schema_url(base)
    url = next(urls)
    settings = Settings(
        database_url=url, model_dir=model_dir, rate_limit_per_minute=0, auth_failures_per_minute=0
    )
    app = create_app(settings)
    state = app.state.nengli
    teachers = province.teachers
    events = province.events
    active = set(events.loc[events["event"] == "complete", "teacher_id"]) & set(
        province.grades["teacher_id"]
    )
    school = str(teachers.loc[teachers["teacher_id"].isin(active), "school_id"].iloc[0])
    mine = teachers.loc[teachers["school_id"] == school, "teacher_id"].astype(str).tolist()
    victim = next(t for t in mine if t in active)
    colleague = next(t for t in mine if t != victim)
    sibling = str(teachers.loc[teachers["school_id"] != school, "teacher_id"].iloc[0])
    with state.sessions() as session:
        store_tables(session, Principal("setup", "admin", None), province.tables())
        now = datetime.now(UTC)
        for sub, owner, reviewer in (("SUB-V", victim, colleague), ("SUB-C", colleague, victim)):
            session.add(
                EvidenceSubmission(
                    submission_id=sub,
                    teacher_id=owner,
                    school_id=school,
                    point="A1",
                    submitted_at=now,
                    submitted_by="setup",
                )
            )
            session.flush()
            session.add(
                EvidenceItemRow(
                    evidence_id=f"{sub}-1",
                    submission_id=sub,
                    position=0,
                    artifact="教学设计",
                    title="t",
                    media="document",
                )
            )
            session.add(PeerAssignmentRow(submission_id=sub, reviewer_id=reviewer, assigned_at=now))
            session.flush()
            session.add(
                EvidenceReviewRow(
                    evidence_id=f"{sub}-1",
                    reviewer_id=reviewer,
                    role="peer",
                    rating="合格",
                    comment="ok",
                    created_at=now,
                    key_id="setup",
                )
            )
        tokens = {
            "admin": create_key(session, "admin"),
            "platform": create_key(session, "platform", REGION),
            "school": create_key(session, "school", school),
            "teacher": create_key(session, "teacher", victim),
        }
        session.commit()
    headers = {role: {"Authorization": f"Bearer {token}"} for role, (token, _row) in tokens.items()}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Erasable(
            client, headers, victim, school, colleague, sibling, tokens["school"][1].key_id
        )
    for _rest in urls:  # drops the PostgreSQL schema
        pass


def _progress(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    response = client.get(f"/v1/regions/{REGION}/progress", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _breakdown(client: TestClient, headers: dict[str, str], level: str) -> list[dict[str, object]]:
    response = client.get(f"/v1/regions/{REGION}/breakdown?level={level}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["rows"]  # type: ignore[no-any-return]


def _rows_naming(client: TestClient, teacher_id: str) -> dict[str, int]:
    with client.app.state.nengli.engine.connect() as connection:  # type: ignore[attr-defined]
        return {
            table: int(
                connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :t"), {"t": teacher_id}
                ).scalar_one()
            )
            for table, column in PERSONAL_TABLES.items()
        }


def _rounded(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def test_erasure_deletes_personal_rows_and_keeps_counts(erasable: Erasable) -> None:
    client, headers, victim = erasable.client, erasable.headers, erasable.victim
    before = _progress(client, headers["platform"])
    before_rows = {lvl: _breakdown(client, headers["platform"], lvl) for lvl in ("city", "school")}
    assert all(_rows_naming(client, victim).values())  # every personal table names them

    response = client.delete(f"/v1/teachers/{victim}", headers=headers["school"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["teacher_id"] == victim
    deleted = body["rows_deleted"]
    assert deleted["teachers"] == 1 and deleted["events"] > 0 and deleted["grades"] > 0
    assert deleted["evidence_reviews"] == 2 and deleted["peer_assignments"] == 2
    assert deleted["evidence_items"] == 1 and deleted["api_keys"] == 1
    assert _rows_naming(client, victim) == dict.fromkeys(PERSONAL_TABLES, 0)
    after = _progress(client, headers["platform"])
    for field in ("n_teachers", "teachers_started", "teachers_compliant", "assessments", "rollout"):
        assert after[field] == before[field], field
    for field in ("mean_hours", "mean_practice_hours", "compliant_share"):
        assert after[field] == pytest.approx(before[field], abs=1e-9), field
    for level, rows in before_rows.items():
        assert _rounded(_breakdown(client, headers["platform"], level)) == _rounded(rows)


def test_erased_id_answers_404_everywhere(erasable: Erasable) -> None:
    client, headers, victim = erasable.client, erasable.headers, erasable.victim
    assert client.get(f"/v1/teachers/{victim}", headers=headers["admin"]).status_code == 200
    assert client.delete(f"/v1/teachers/{victim}", headers=headers["admin"]).status_code == 200

    for path in (
        "",
        "/diagnosis",
        "/recommendations?kind=course&k=5",
        "/learning-path",
        "/portfolio",
    ):
        erased = client.get(f"/v1/teachers/{victim}{path}", headers=headers["admin"])
        missing = client.get(f"/v1/teachers/T7777777{path}", headers=headers["admin"])
        problem = assert_problem(erased, 404)
        assert problem["detail"] == assert_problem(missing, 404)["detail"].replace(
            "T7777777", victim
        ), path
    again = client.delete(f"/v1/teachers/{victim}", headers=headers["admin"])
    assert_problem(again, 404)
    # The teacher's own key went with them.
    assert_problem(client.get("/v1/me", headers=headers["teacher"]), 401)
    listed = client.get(f"/v1/teachers?school_id={erasable.school}", headers=headers["admin"])
    assert victim not in [t["teacher_id"] for t in listed.json()["data"]]
    models = client.app.state.nengli.registry.current  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError):
        models.recommender.row_of(victim)


def test_tombstone_says_who_erased_whom_and_when(erasable: Erasable) -> None:
    client = erasable.client
    assert client.delete(f"/v1/teachers/{erasable.victim}", headers=erasable.headers["school"])
    with client.app.state.nengli.sessions() as session:  # type: ignore[attr-defined]
        (stone,) = session.scalars(select(TeacherErasure)).all()
    assert stone.teacher_id == erasable.victim and stone.region == REGION
    assert stone.key_id == erasable.school_key_id and stone.role == "school"
    assert stone.erased_at.tzinfo is not None
    columns = set(TeacherErasure.__table__.columns.keys())
    assert columns == {"id", "teacher_id", "region", "erased_at", "key_id", "role", "rows_deleted"}


@pytest.mark.parametrize("role", ["platform", "teacher"])
def test_only_school_and_admin_keys_erase(erasable: Erasable, role: str) -> None:
    response = erasable.client.delete(
        f"/v1/teachers/{erasable.victim}", headers=erasable.headers[role]
    )
    assert_problem(response, 403)
    assert _rows_naming(erasable.client, erasable.victim)["teachers"] == 1


def test_a_school_key_gets_the_same_404_for_foreign_and_missing_ids(erasable: Erasable) -> None:
    client, school = erasable.client, erasable.headers["school"]
    foreign = client.delete(f"/v1/teachers/{erasable.sibling_school_teacher}", headers=school)
    missing = client.delete("/v1/teachers/T7777777", headers=school)
    assert assert_problem(foreign, 404)["title"] == assert_problem(missing, 404)["title"]
    assert _rows_naming(client, erasable.sibling_school_teacher)["teachers"] == 1


def test_a_failing_erasure_changes_nothing(
    erasable: Erasable, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.db.stores.erasure as store

    before = _rows_naming(erasable.client, erasable.victim)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_upsert", broken)
    response = erasable.client.delete(
        f"/v1/teachers/{erasable.victim}", headers=erasable.headers["admin"]
    )
    assert response.status_code == 500
    assert _rows_naming(erasable.client, erasable.victim) == before


def test_reviews_stay_append_only_outside_an_erasure(erasable: Erasable) -> None:
    engine = erasable.client.app.state.nengli.engine  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM evidence_reviews"))


def test_another_worker_loads_the_model_without_the_erased_teacher(
    erasable: Erasable, model_dir: Path
) -> None:
    client = erasable.client
    assert client.delete(f"/v1/teachers/{erasable.victim}", headers=erasable.headers["admin"])
    url = client.app.state.nengli.settings.database_url  # type: ignore[attr-defined]
    other = create_app(Settings(database_url=url, model_dir=model_dir))
    other.state.nengli.registry.try_initial_load()
    with pytest.raises(NotFoundError):
        other.state.nengli.registry.current.recommender.row_of(erasable.victim)
    assert other.state.nengli.registry.current.recommender.row_of(erasable.colleague) >= 0
    other.state.nengli.engine.dispose()


def test_cli_erases_and_refuses_an_unknown_id(
    erasable: Erasable, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = erasable.client.app.state.nengli.settings.database_url  # type: ignore[attr-defined]
    monkeypatch.setenv("NENGLI_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(cli, ["teachers", "erase", erasable.victim, "--json"])
        assert done.exit_code == 0, done.output
        assert f'"teacher_id": "{erasable.victim}"' in done.output
        from service.cli.main import main

        monkeypatch.setattr("sys.argv", ["nengli", "teachers", "erase", erasable.victim])
        with pytest.raises(SystemExit) as exit_info:
            main()
        assert exit_info.value.code == 2
    finally:
        get_settings.cache_clear()
    assert _rows_naming(erasable.client, erasable.victim)["teachers"] == 0
