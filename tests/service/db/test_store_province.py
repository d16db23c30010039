"""``store_province``: a province directory stored batch by batch, on SQLite and PostgreSQL.

Reading ``responses.parquet`` and ``events.parquet`` a record batch at a time must store
exactly the rows ``store_tables`` stores from the whole tables, and a failure in a late batch
must leave nothing of the earlier ones once the caller rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, event, func, select, text
from sqlalchemy.orm import Session

from competency_model.errors import ConflictError, DatasetError
from competency_model.province import Province, read_province, write_province
from service.auth import Principal
from service.db.engine import make_engine
from service.db.migrate import upgrade_database
from service.db.models import Event, Response, Teacher
from service.db.stores.province import store_province, store_tables
from training_data.simulator import simulate_province

ADMIN = Principal("test-store-province", "admin", None)
PREFIX = "ZSP"  # ids no other test of the shared PostgreSQL schema uses
#: Columns that hold the import's own clock, different between two imports by design.
CLOCK_COLUMNS = {"updated_at", "received_at", "answered_at"}
TABLES = ("schools", "teachers", "responses", "grades", "events")


def _prefixed(province: Province) -> Province:
    """The province with every school, teacher and event id prefixed by :data:`PREFIX`."""
    tables = province.normalized().tables()
    for frame in tables.values():
        for column in ("school_id", "teacher_id", "event_id"):
            if column in frame.columns:
                frame[column] = PREFIX + frame[column].astype(str)
    return Province(**{n: tables[n] for n in TABLES})


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated province (seeded), ids prefixed, written as Parquet."""
    directory = tmp_path_factory.mktemp("store-province") / "province"
    write_province(_prefixed(simulate_province(60, 3, seed=5)), directory)
    return directory


@pytest.fixture
def connection(request: pytest.FixtureRequest, client) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    """A connection to the app's database (SQLite or PostgreSQL), rolled back afterwards."""
    engine = client.app.state.nengli.engine
    if engine.dialect.name == "postgresql":
        yield request.getfixturevalue("pg")
        return
    with engine.connect() as sqlite_connection:
        yield sqlite_connection
        sqlite_connection.rollback()


def _snapshot(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every stored row of this test's ids, clock columns left out, in a stable order."""
    snapshot: dict[str, list[tuple[object, ...]]] = {}
    for name in TABLES:
        key = "school_id" if name == "schools" else "teacher_id"
        result = session.execute(
            text(f"SELECT * FROM {name} WHERE {key} LIKE :prefix"), {"prefix": f"{PREFIX}%"}
        )
        keep = [i for i, c in enumerate(result.keys()) if c not in CLOCK_COLUMNS | {"id"}]
        rows = [tuple(_plain(row[i]) for i in keep) for row in result]
        snapshot[name] = sorted(rows, key=repr)
    return snapshot


def _plain(value: object) -> object:
    """SQLite returns naive UTC datetimes, PostgreSQL aware ones: compare them as UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _counts(session: Session) -> dict[str, int]:
    return {
        name: session.scalar(
            text(
                f"SELECT count(*) FROM {name} WHERE "
                f"{'school_id' if name == 'schools' else 'teacher_id'} LIKE :p"
            ),
            {"p": f"{PREFIX}%"},
        )
        or 0
        for name in TABLES
    }


def test_batched_store_gives_the_rows_and_counts_of_whole_tables(
    connection: Connection, province_dir: Path
) -> None:
    tables = {name: getattr(read_province(province_dir), name) for name in TABLES}
    with Session(bind=connection) as session:
        whole = store_tables(session, ADMIN, tables)
        expected = _snapshot(session)
        session.rollback()
        assert _counts(session) == dict.fromkeys(TABLES, 0)
        # 997 rows a batch: responses and events split into many uneven batches.
        batched = store_province(session, ADMIN, province_dir, batch_rows=997)
        assert _snapshot(session) == expected
        assert batched == whole
        assert whole["inserted"]["events"] == len(tables["events"]) > 997 * 3
        again = store_province(session, ADMIN, province_dir, batch_rows=997)
        assert again["inserted"] == dict.fromkeys(TABLES, 0)
        assert _snapshot(session) == expected
        session.rollback()


def test_a_conflict_in_the_last_batch_leaves_the_database_unchanged(
    connection: Connection, province_dir: Path, tmp_path: Path
) -> None:
    events = read_province(province_dir).events
    last = events.iloc[-1]
    with Session(bind=connection) as session:
        # A teacher of another school stores the last event id first, with other content.
        store_tables(
            session,
            ADMIN,
            {
                name: getattr(read_province(province_dir), name).iloc[:1]
                for name in ("schools", "teachers")
            }
            | {
                "events": pd.DataFrame(
                    {
                        "event_id": [last["event_id"]],
                        "teacher_id": [read_province(province_dir).teachers["teacher_id"].iloc[0]],
                        "item_id": [last["item_id"]],
                        "event": ["enrol"],
                        "value": [float("nan")],
                        "timestamp": [pd.Timestamp("2021-01-01 08:00:00")],
                    }
                )
            },
        )
        session.flush()
        before = _snapshot(session)
        with pytest.raises(ConflictError, match=str(last["event_id"])):
            with session.begin_nested():
                store_province(session, ADMIN, province_dir, batch_rows=997)
        assert _snapshot(session) == before
        assert (
            session.scalar(
                select(func.count())
                .select_from(Response)
                .where(Response.teacher_id.like(f"{PREFIX}%"))
            )
            == 0
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.teacher_id.like(f"{PREFIX}%"))
            )
            == 1
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(Teacher)
                .where(Teacher.teacher_id.like(f"{PREFIX}%"))
            )
            == 1
        )
        session.rollback()


def test_batch_rows_must_be_positive(province_dir: Path, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    upgrade_database(engine)
    with Session(engine) as session, pytest.raises(DatasetError, match="batch_rows"):
        store_province(session, ADMIN, province_dir, batch_rows=0)
    engine.dispose()


@pytest.mark.parametrize("chunk", [5, 2000], ids=["chunk-5", "chunk-2000"])
def test_a_reimport_with_changed_answers_updates_each_one(
    connection: Connection, province_dir: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Small chunks send PostgreSQL's lookup of stored rows through a staged id table and its
    # update through COPY + one UPDATE … FROM.
    monkeypatch.setattr("service.db.bulk.INSERT_CHUNK", chunk)
    monkeypatch.setattr("service.db.stores.province.CHUNK", chunk)
    tables = {name: getattr(read_province(province_dir), name) for name in TABLES}
    answers = tables["responses"]
    changed = answers.iloc[: len(answers) // 2].assign(response=lambda f: 6.0 - f["response"])
    # A key repeated later in the table: the later answer is the one kept.
    repeated = changed.iloc[:1].assign(response=9.0)
    reimport = pd.concat([changed, repeated], ignore_index=True)
    expected = {
        (str(r.teacher_id), str(r.item_id)): float(r.response)
        for r in pd.concat([answers, reimport]).itertuples()
    }
    schools = dict(
        zip(tables["teachers"]["teacher_id"], tables["teachers"]["school_id"], strict=True)
    )
    with Session(bind=connection) as session:
        store_tables(session, ADMIN, tables)
        session.execute(
            text("DELETE FROM mastery_dirty WHERE school_id LIKE :p"), {"p": f"{PREFIX}%"}
        )

        counts = store_tables(session, ADMIN, {"responses": reimport, "grades": tables["grades"]})

        stored = session.execute(
            text("SELECT teacher_id, item_id, response FROM responses WHERE teacher_id LIKE :p"),
            {"p": f"{PREFIX}%"},
        ).tuples()
        assert {(t, i): r for t, i, r in stored} == expected
        assert counts == {
            "inserted": {"responses": 0, "grades": 0},
            "updated": {"responses": len(reimport), "grades": 0},
        }
        marked = session.scalars(
            text("SELECT school_id FROM mastery_dirty WHERE school_id LIKE :p"), {"p": f"{PREFIX}%"}
        )
        assert set(marked) == {schools[t] for t in changed["teacher_id"]}
        session.rollback()


@pytest.mark.parametrize("chunk", [5, 2000], ids=["chunk-5", "chunk-2000"])
def test_a_reimport_writes_only_the_teachers_that_changed(
    connection: Connection, province_dir: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # A re-import re-asserts every teacher; rewriting them all held ~2 KB a teacher in the
    # importing process (an ORM executemany) and marked every school's aggregates stale. Now
    # only a teacher whose stored row differs is written — the report still counts every
    # re-asserted teacher as updated. Chunks of 5 send PostgreSQL's update through COPY + one
    # UPDATE … FROM, 2,000 through the executemany path (SQLite's, always).
    monkeypatch.setattr("service.db.bulk.INSERT_CHUNK", chunk)
    tables = {name: getattr(read_province(province_dir), name) for name in TABLES}
    teachers = tables["teachers"].reset_index(drop=True)
    reimport = teachers.copy()
    reimport.loc[[0, 1, 2], "research_group"] = "ZSP-regrouped"
    reimport.loc[3, "research_group"] = None
    reimport.loc[4, "years_of_service"] += 1
    changed = set(reimport["teacher_id"].iloc[:5])
    schools = dict(zip(teachers["teacher_id"], teachers["school_id"], strict=True))
    select_teachers = text(
        "SELECT teacher_id, research_group, years_of_service, updated_at FROM teachers "
        "WHERE teacher_id LIKE :p"
    )
    with Session(bind=connection) as session:
        store_tables(session, ADMIN, tables)
        before = {t: _plain(at) for t, _, _, at in session.execute(select_teachers, {"p": "ZSP%"})}
        session.execute(
            text("DELETE FROM mastery_dirty WHERE school_id LIKE :p"), {"p": f"{PREFIX}%"}
        )

        counts = store_tables(session, ADMIN, {"teachers": reimport})

        stored = {
            t: (g, y, _plain(at)) for t, g, y, at in session.execute(select_teachers, {"p": "ZSP%"})
        }
        assert counts == {"inserted": {"teachers": 0}, "updated": {"teachers": len(teachers)}}
        assert {t for t, (_, _, at) in stored.items() if at != before[t]} == changed
        expected = {
            str(r.teacher_id): (
                r.research_group if isinstance(r.research_group, str) else None,
                int(r.years_of_service),
            )
            for r in reimport.itertuples()
        }
        assert {t: (g, y) for t, (g, y, _) in stored.items()} == expected
        marked = session.scalars(
            text("SELECT school_id FROM mastery_dirty WHERE school_id LIKE :p"), {"p": f"{PREFIX}%"}
        )
        assert set(marked) == {schools[t] for t in changed}
        session.rollback()


def test_no_statement_of_a_province_import_returns_more_rows_than_a_batch(
    pg: Connection, tmp_path: Path
) -> None:
    # Memory must be bounded by the batch, not the province: a statement whose result the
    # client fetches — ``INSERT … RETURNING`` counting the merged events, the whole teachers
    # table inserted at once — holds one row per stored row in the importing process (3.4 GB
    # at 18 million events). 1,500 teachers and 6,000 events against batches of 400 rows:
    # every result must stay within the largest fixed chunk (the 1,000 ids of a conflict).
    from bench.synthetic_province import write_synthetic_province

    write_synthetic_province(
        tmp_path / "synthetic",
        1500,
        events_per_teacher=4,
        responses_per_teacher=1,
        grades_per_teacher=1,
        seed=3,
    )
    directory = tmp_path / "province"
    write_province(_prefixed(read_province(tmp_path / "synthetic")), directory)
    returned: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if cursor.description is not None:
            returned.append(cursor.rowcount)

    event.listen(pg, "after_cursor_execute", count)
    try:
        with Session(bind=pg) as session:
            first = store_province(session, ADMIN, directory, batch_rows=400)
            again = store_province(session, ADMIN, directory, batch_rows=400)
            session.rollback()
    finally:
        event.remove(pg, "after_cursor_execute", count)
    assert first["inserted"] == {
        "schools": 30,
        "teachers": 1500,
        "responses": 1500,
        "grades": 1500,
        "events": 6000,
    }
    assert again["inserted"] == dict.fromkeys(TABLES, 0)
    assert returned and max(returned) <= 1000
