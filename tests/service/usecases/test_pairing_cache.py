"""结对帮扶 from stored per-school summaries and a cached region result (migration 0013).

The region's pairing is served from the result stored under a hash of its inputs; these tests
check that it equals the teacher-level computation over the stored mastery and that every
input — a school's mastery, its city or environment, the model version, an erased mentor —
invalidates it at the next read. Each backend gets an app and a province of its own, since
the tests change schools, versions and teachers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text, update

from competency_model.province import Province
from recommender.school_planning.pairing import mentor_teachers, pair_schools
from service.app import create_app
from service.auth import Principal, create_key
from service.db.models import School, Teacher
from service.db.scale_models import RegionPairing, SchoolPairingSummary
from service.db.stores.province import store_tables
from service.settings import Settings
from service.usecases.planning import json_rows, region_pairing
from service.usecases.stored_mastery import stored_mastery
from tests.service.conftest import POSTGRES_ENV, TestClient, _postgres_schema_url
from training_data.simulator import simulate_province


@dataclass
class Paired:
    client: TestClient
    headers: dict[str, dict[str, str]]
    region: str
    schools: list[str]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def paired(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model_dir: Path
) -> Iterator[Paired]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter(
            [f"sqlite:///{tmp_path_factory.mktemp('pairing') / 'pairing.sqlite'}"]
        )
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        urls = _postgres_schema_url(base)
    url = next(urls)
    settings = Settings(
        database_url=url, model_dir=model_dir, rate_limit_per_minute=0, auth_failures_per_minute=0
    )
    province: Province = simulate_province(240, 10, seed=11)
    region = str(province.schools["region"].iloc[0])
    app = create_app(settings)
    state = app.state.nengli
    with state.sessions() as session:
        store_tables(session, Principal("setup", "admin", None), province.tables())
        tokens = {
            "admin": create_key(session, "admin")[0],
            "platform": create_key(session, "platform", region)[0],
        }
        session.commit()
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    schools = sorted(province.schools["school_id"].astype(str))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Paired(client, headers, region, schools)
    for _rest in urls:  # drops the PostgreSQL schema
        pass


def _pairing(paired: Paired) -> dict[str, Any]:
    response = paired.client.get(
        f"/v1/regions/{paired.region}/pairing", headers=paired.headers["platform"]
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _stored_result(paired: Paired) -> tuple[str, datetime]:
    with paired.client.app.state.nengli.sessions() as session:  # type: ignore[attr-defined]
        row = session.execute(
            select(RegionPairing.input_key, RegionPairing.computed_at).where(
                RegionPairing.region == paired.region
            )
        ).one()
    return str(row.input_key), row.computed_at


def _teacher_level(paired: Paired) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pairing as it was computed before 0013: over every teacher's stored mastery."""
    state = paired.client.app.state.nengli  # type: ignore[attr-defined]
    with state.sessions() as session:
        mastery, schools = stored_mastery(
            session, state, state.registry.require(), region=paired.region
        )
        session.commit()
    pairs = pair_schools(mastery, schools.sort_values("school_id"), state.framework)
    return json_rows(pairs), json_rows(mentor_teachers(pairs, mastery))


def test_the_summary_path_equals_the_teacher_level_pairing(paired: Paired) -> None:
    body = _pairing(paired)
    pairs, mentors = _teacher_level(paired)
    assert len(pairs) >= 2 and mentors, (pairs, mentors)
    assert [{**p, "complementarity": None} for p in body["pairs"]] == [
        {**p, "complementarity": None} for p in pairs
    ]
    np.testing.assert_allclose(
        [p["complementarity"] for p in body["pairs"]],
        [p["complementarity"] for p in pairs],
        rtol=0,
        atol=1e-9,
    )
    assert body["mentors"] == mentors


def test_a_repeat_read_serves_the_stored_result(paired: Paired) -> None:
    first = _pairing(paired)
    stored = _stored_result(paired)
    assert _pairing(paired) == first
    assert _stored_result(paired) == stored


def test_events_of_a_teacher_make_the_next_read_recompute(paired: Paired) -> None:
    _pairing(paired)
    key, _ = _stored_result(paired)
    state = paired.client.app.state.nengli  # type: ignore[attr-defined]
    with state.sessions() as session:
        teacher = session.scalars(
            select(Teacher.teacher_id).where(Teacher.school_id == paired.schools[0]).limit(1)
        ).one()
        stamp = session.scalars(
            select(SchoolPairingSummary.stamp).where(
                SchoolPairingSummary.school_id == paired.schools[0]
            )
        ).one()
    item = next(iter(state.catalog))
    event = {
        "event_id": f"pairing-cache-{teacher}",
        "teacher_id": teacher,
        "event": "complete",
        "item_id": item.item_id,
        "timestamp": datetime.now(UTC).isoformat(),
    }
    response = paired.client.post(
        "/v1/events", json={"events": [event]}, headers=paired.headers["admin"]
    )
    assert response.status_code == 200, response.text
    body = _pairing(paired)
    assert _stored_result(paired)[0] != key
    with state.sessions() as session:
        assert (
            session.scalars(
                select(SchoolPairingSummary.stamp).where(
                    SchoolPairingSummary.school_id == paired.schools[0]
                )
            ).one()
            != stamp
        )
    pairs, mentors = _teacher_level(paired)
    assert body["mentors"] == mentors
    assert [p["weak_school"] for p in body["pairs"]] == [p["weak_school"] for p in pairs]


@pytest.mark.parametrize("column", ["environment", "city", "urban_rural"])
def test_a_school_moving_city_or_environment_changes_the_key(paired: Paired, column: str) -> None:
    _pairing(paired)
    key, _ = _stored_result(paired)
    state = paired.client.app.state.nengli  # type: ignore[attr-defined]
    school = paired.schools[1]
    with state.sessions() as session:
        before = session.scalars(select(getattr(School, column)).where(School.school_id == school))
        old = before.one()
        new = {
            "environment": "smart" if old != "smart" else "multimedia",
            "city": f"{old}新区",
            "urban_rural": "rural" if old != "rural" else "urban",
        }[column]
        session.execute(update(School).where(School.school_id == school).values({column: new}))
        session.commit()
    try:
        _pairing(paired)
        assert _stored_result(paired)[0] != key
    finally:
        with state.sessions() as session:
            session.execute(update(School).where(School.school_id == school).values({column: old}))
            session.commit()
    _pairing(paired)
    assert _stored_result(paired)[0] == key  # the same inputs give the same key again


def test_a_new_model_version_rediagnoses_and_recomputes(
    paired: Paired, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pairing(paired)
    key, _ = _stored_result(paired)
    state = paired.client.app.state.nengli  # type: ignore[attr-defined]
    bundle = state.registry.require()
    renamed = dataclasses.replace(bundle, version=f"{bundle.version}-next")
    monkeypatch.setattr(state.registry, "require", lambda: renamed)
    with state.sessions() as session:
        region_pairing(session, state, paired.region)
        session.commit()
        versions = set(
            session.scalars(
                select(SchoolPairingSummary.model_version).where(
                    SchoolPairingSummary.region == paired.region
                )
            )
        )
    assert versions == {renamed.version}
    stored_key, _ = _stored_result(paired)
    assert stored_key != key
    monkeypatch.undo()
    _pairing(paired)  # back to the real version: everything rediagnosed under it again


def test_an_erased_mentor_leaves_the_stored_result_and_the_next_one(paired: Paired) -> None:
    mentors = _pairing(paired)["mentors"]
    assert mentors
    victim = str(mentors[0]["mentor_teacher_id"])
    response = paired.client.delete(f"/v1/teachers/{victim}", headers=paired.headers["admin"])
    assert response.status_code == 200, response.text
    state = paired.client.app.state.nengli  # type: ignore[attr-defined]
    with state.sessions() as session:
        left = session.scalars(
            select(RegionPairing.mentors).where(RegionPairing.region == paired.region)
        ).all()
        summaries = session.scalars(select(SchoolPairingSummary.mentors)).all()
    assert all(victim not in text_ for text_ in [*left, *summaries])
    after = _pairing(paired)
    assert victim not in {m["mentor_teacher_id"] for m in after["mentors"]}
    assert after["mentors"] == _teacher_level(paired)[1]


def test_both_tables_are_behind_the_region_policy(paired: Paired) -> None:
    engine = paired.client.app.state.nengli.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")
    _pairing(paired)
    with engine.connect() as connection:
        for table in ("school_pairing_summary", "region_pairing"):
            enabled = connection.execute(
                text(
                    "SELECT relrowsecurity FROM pg_class WHERE relname = :t "
                    "AND relnamespace = current_schema()::regnamespace"
                ),
                {"t": table},
            ).scalar()
            assert enabled is True, table
            connection.execute(text("SET ROLE nengli_api"))
            for setting, expected in (("其他", 0), (paired.region, None), ("", 0)):
                connection.execute(
                    text("SELECT set_config('nengli.region', :r, false)"), {"r": setting}
                )
                count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                if expected is None:
                    assert count and count > 0, table
                else:
                    assert count == expected, (table, setting)
            connection.execute(text("RESET ROLE"))
            connection.execute(text("SELECT set_config('nengli.region', '', false)"))
        connection.rollback()


def test_two_first_reads_of_a_changed_school_both_succeed(paired: Paired) -> None:
    """Two requests rediagnosing one stale school at once: the second waits for the first's
    rows and then overwrites them, instead of failing on their keys (a 500 before)."""
    import threading
    import time

    from service.usecases.stored_mastery import refresh_mastery

    state = paired.client.app.state.nengli  # type: ignore[attr-defined]
    if state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers on its database lock")
    models = state.registry.require()
    school = paired.schools[1]
    errors: list[BaseException] = []
    with state.sessions() as session:  # stale by its rows, not by a mark both writers would lock
        session.execute(text("DELETE FROM mastery_dirty WHERE school_id = :s"), {"s": school})
        session.commit()

    def second() -> None:
        try:
            with state.sessions() as session:
                refresh_mastery(session, state, models, paired.region, [school])
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    with state.sessions() as first:
        refresh_mastery(first, state, models, paired.region, [school])
        thread = threading.Thread(target=second)
        thread.start()
        with state.engine.connect() as probe:  # wait until the second writer blocks on ours
            for _ in range(200):
                waiting = probe.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.05)
        first.commit()
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == [], errors
    with state.sessions() as session:
        summaries = session.scalars(
            select(SchoolPairingSummary).where(SchoolPairingSummary.school_id == school)
        ).all()
    assert len(summaries) == 1
