"""The recommendation hot path: kept rankings, one-query tenancy, group-committed audit.

Each shortcut must give the answer the plain path would: completed items vanish at once from a
kept ranking, a fold-in retires every kept ranking, every answered request has its audit row,
and a failed audit write answers with a problem instead of the data.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
import uvicorn
from sqlalchemy import create_engine, event, func, select, text

from service.app import create_app
from service.audit import AuditBatcher, audit_row, entries_for_teacher
from service.auth import Principal
from service.db.migrate import upgrade_database
from service.db.models import AuditEntry
from service.settings import Settings
from tests.service.conftest import Keys, World, assert_problem

KNOWN = "T0000012"  # in the trained model, region 江苏


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live(settings: Settings, world: World) -> Iterator[tuple[str, Any]]:
    """A fresh app (own caches and model copy) served by uvicorn on loopback in a thread."""
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app.state.nengli
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _complete(client: httpx.Client, headers: dict[str, str], teacher: str, item: str) -> None:
    response = client.post(
        "/v1/events",
        headers=headers,
        json={
            "events": [
                {
                    "event_id": f"hot-{uuid.uuid4().hex}",
                    "teacher_id": teacher,
                    "event": "complete",
                    "item_id": item,
                    "timestamp": "2024-05-01T09:00:00+08:00",
                }
            ]
        },
    )
    assert response.status_code == 200, response.text


def test_kept_ranking_drops_an_item_as_soon_as_it_is_completed(live, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    url, state = live
    headers = keys.header("platform")
    path = f"/v1/teachers/{KNOWN}/recommendations?kind=course&k=5"
    with httpx.Client(base_url=url, timeout=30) as client:
        first = client.get(path, headers=headers).json()
        misses = state.ranking_cache.misses
        top = first["data"][0]["item_id"]
        _complete(client, headers, KNOWN, top)
        second = client.get(path, headers=headers).json()
    assert state.ranking_cache.misses == misses, "the second request ranked again"
    with httpx.Client(base_url=url, timeout=30) as client:
        stats = client.get("/readyz", headers=keys.header("admin")).json()["ranking_cache"]
    assert stats["hits"] >= 1 and stats["misses"] == misses and stats["entries"] >= 1
    assert top not in {item["item_id"] for item in second["data"]}
    # Same list, scores and reasons as ranking again with the completed item excluded.
    models = state.registry.require()
    fresh = models.recommender.recommend(KNOWN, k=5, kind="course", exclude=[top])
    assert second["data"] == [item.model_dump() for item in fresh]
    assert second["data"][:4] == first["data"][1:5]


def test_a_fold_in_retires_kept_rankings(live, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    url, state = live
    headers = keys.header("admin")
    path = f"/v1/teachers/{KNOWN}/recommendations?kind=task&k=5"
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.get(path, headers=headers).status_code == 200
        models = state.registry.require()
        task = models.recommender.recommend(KNOWN, k=1, kind="task")[0].item_id
        events = pd.DataFrame(
            {
                "item_id": [task],
                "event": ["complete"],
                "value": [float("nan")],
                "timestamp": [pd.Timestamp("2024-05-02 10:00:00")],
            }
        )
        models.recommender.fold_in(KNOWN, events)
        misses = state.ranking_cache.misses
        after = client.get(path, headers=headers).json()
    assert state.ranking_cache.misses == misses + 1, "a ranking from before the fold-in was used"
    assert after["data"] == [
        item.model_dump() for item in models.recommender.recommend(KNOWN, k=5, kind="task")
    ]


def test_concurrent_requests_each_commit_their_audit_row_in_few_transactions(
    live, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    url, state = live
    commits: list[int] = []
    batcher = state.audit_batcher
    write = batcher._write

    async def count_commit(rows: list[dict[str, object]]) -> None:
        await write(rows)  # one transaction (PostgreSQL: one autocommit statement)
        commits.append(1)

    batcher._write = count_commit
    with state.sessions() as session:
        before = len(entries_for_teacher(session, world.teacher))
    n = 60

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.get(
                        f"/v1/teachers/{world.teacher}/recommendations?k={1 + i % 10}",
                        headers=keys.header("school"),
                    )
                    for i in range(n)
                )
            )

    try:
        responses = asyncio.run(burst())
    finally:
        del batcher._write
    assert [r.status_code for r in responses] == [200] * n
    with state.sessions() as session:
        entries = entries_for_teacher(session, world.teacher)
    assert len(entries) == before + n
    details = sorted(e.detail for e in entries[before:])
    assert details == sorted(f"kind=course k={1 + i % 10} personalized=True" for i in range(n))
    assert 1 <= len(commits) < n  # group commit: rows of concurrent requests share transactions


def test_answer_is_refused_when_its_audit_row_cannot_be_written(
    settings: Settings, keys: Keys, world: World
) -> None:
    app = create_app(settings)
    state = app.state.nengli

    async def fail(*_args: object) -> None:
        raise RuntimeError("disk full")

    state.audit_batcher._write = fail  # the database refuses the write
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(
            f"/v1/teachers/{world.teacher}/recommendations", headers=keys.header("admin")
        )
    assert_problem(response, 500)
    assert "item_id" not in response.text  # no recommendation left the server


def test_audit_batcher_groups_concurrent_rows_and_reports_failures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    upgrade_database(engine)
    batcher = AuditBatcher(engine)
    commits: list[int] = []
    event.listen(engine, "commit", lambda _connection: commits.append(1))
    who = Principal("k1", "admin", None)

    async def many(count: int) -> None:
        await asyncio.gather(
            *(batcher.append(audit_row(who, "read", teacher_id=f"T{i:07d}")) for i in range(count))
        )

    asyncio.run(many(200))
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditEntry)) == 200
    assert len(commits) < 20
    # A new event loop (as a second TestClient would start) still gets its rows written.
    asyncio.run(many(3))
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditEntry)) == 203
        connection.execute(text("DROP TABLE audit_log"))
        connection.commit()
    with pytest.raises(Exception, match="audit_log"):
        asyncio.run(many(5))
    engine.dispose()


def test_foreign_and_unknown_teachers_are_the_same_404_on_the_hot_path(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    foreign = client.get(
        f"/v1/teachers/{world.foreign_teacher}/recommendations", headers=keys.header("platform")
    )
    unknown = client.get("/v1/teachers/T7777777/recommendations", headers=keys.header("platform"))
    a, b = assert_problem(foreign, 404), assert_problem(unknown, 404)
    assert a["title"] == b["title"] and a["detail"] != "" and b["detail"] != ""


def test_audit_writer_checkpoints_the_wal_off_the_commit_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    upgrade_database(engine)
    batcher = AuditBatcher(engine)
    with batcher._engine.connect() as connection:  # the writer never checkpoints in a commit
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _cur, sql, *_rest: statements.append(sql)
    )
    who = Principal("k1", "admin", None)

    async def write(count: int) -> None:
        await asyncio.gather(*(batcher.append(audit_row(who, "read")) for _ in range(count)))

    asyncio.run(write(AuditBatcher.checkpoint_rows - 1))
    batcher._checkpointer.submit(lambda: None).result()  # let a submitted checkpoint finish
    assert not any("wal_checkpoint" in sql for sql in statements)
    asyncio.run(write(2))
    batcher.close()
    assert sum("wal_checkpoint(PASSIVE)" in sql for sql in statements) == 1
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(AuditEntry))
    assert count == AuditBatcher.checkpoint_rows + 1
    engine.dispose()


def test_a_held_sqlite_lock_moves_the_batch_to_a_thread_and_the_loop_keeps_running(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    """Another process (here: connection) holds the write lock: no row is lost, no loop stall."""
    import sqlite3

    path = tmp_path / "audit.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    batcher = AuditBatcher(engine)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    who = Principal("k1", "admin", None)

    async def scenario() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
        await asyncio.gather(*(batcher.append(audit_row(who, "read")) for _ in range(25)))
        ticker.cancel()
        return ticks

    ticks = asyncio.run(scenario())
    assert ticks >= 10  # the loop ran while the batch waited for the lock in a thread
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditEntry)) == 25
    other.close()
    batcher.close()
    engine.dispose()


def test_a_known_teacher_is_looked_up_in_the_model_once_per_request(
    live, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url, state = live
    recommender = state.registry.require().recommender
    looked_up: list[str] = []
    row_of = recommender.row_of

    def counting_row_of(teacher_id: str) -> int:
        looked_up.append(teacher_id)
        return row_of(teacher_id)

    monkeypatch.setattr(recommender, "row_of", counting_row_of)
    path = f"/v1/teachers/{KNOWN}/recommendations?kind=course&k=3"
    with httpx.Client(base_url=url, timeout=30) as client:
        misses = state.ranking_cache.misses
        first = client.get(path, headers=keys.header("platform"))
        assert first.status_code == 200, first.text
        assert state.ranking_cache.misses == misses + 1, "the first request must rank"
        assert looked_up == [KNOWN], "the first request (a cache miss) resolved the row twice"
        second = client.get(path, headers=keys.header("platform"))
    assert second.status_code == 200
    assert looked_up == [KNOWN, KNOWN]
    assert second.json()["data"] == first.json()["data"]
