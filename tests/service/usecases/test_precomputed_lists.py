"""Precomputed lists (issue 15 §3): served for known teachers with completions applied at once,
their stored reasons shown as the live reasons, replaced atomically (reasons included) by a new
version, cold start for teachers newer than the batch."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from competency_model.errors import ImportRowError
from service.db import list_store
from service.db.list_reader import ListedRow, stored_list
from service.db.list_store import load_lists
from service.db.models import AuditEntry
from service.db.scale_models import ListPointer, ListVersion, RecommendationListRow
from tests.service.conftest import OTHER_REGION, REGION, Keys, World, put_teacher

TEACHERS = [f"T{n:07d}" for n in range(20, 30)]


def _lists(  # type: ignore[no-untyped-def]
    client, version: str | None = None, reverse: bool = True, reasons: bool = True
) -> dict[str, list]:
    """Columns of a list file ranked by the session's model (reversed: unlike a live ranking),
    with each item's reasons as ``nengli batch`` writes them (``reasons=False``: an older
    batch's file, without the two columns)."""
    models = client.app.state.nengli.registry.require()
    names = list(list_store.LIST_COLUMNS) + (list(list_store.REASON_COLUMNS) if reasons else [])
    columns: dict[str, list] = {c: [] for c in names}
    for teacher in TEACHERS:
        for kind in ("course", "task"):
            ranking = models.recommender.ranked(teacher, kind, depth=30)
            rows = [
                (item, score, *ranking.reasons(position))
                for position, (item, score) in enumerate(
                    zip(ranking.item_ids, ranking.scores.tolist(), strict=True)
                )
            ]
            if reverse:
                rows = rows[::-1]
            for rank, (item, score, zh, en) in enumerate(rows, start=1):
                columns["teacher_id"].append(teacher)
                columns["kind"].append(kind)
                columns["item_id"].append(item)
                columns["rank"].append(rank)
                columns["score"].append(score)
                columns["model_version"].append(version or models.version)
                if reasons:
                    columns["reasons_zh"].append(zh)
                    columns["reasons_en"].append(en)
    return columns


def _write(path: Path, columns: dict[str, list]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def _load(client, path: Path):  # type: ignore[no-untyped-def]
    with client.app.state.nengli.sessions() as session:
        return load_lists(session, path)


def _served(client, keys: Keys, teacher: str, kind: str = "course", k: int = 5) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/teachers/{teacher}/recommendations",
        params={"kind": kind, "k": k},
        headers=keys.header("platform"),
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def loaded(client, world: World, tmp_path: Path) -> dict[str, list]:  # type: ignore[no-untyped-def]
    columns = _lists(client)
    result = _load(client, _write(tmp_path / "lists.parquet", columns))
    assert result.region == REGION and result.n_teachers == len(TEACHERS)
    return columns


def _expected(columns: dict[str, list], teacher: str, kind: str, k: int) -> list[str]:
    rows = zip(columns["teacher_id"], columns["kind"], columns["item_id"], strict=True)
    return [item for t, c, item in rows if t == teacher and c == kind][:k]


def test_a_known_teacher_gets_the_stored_list_with_reasons(client, keys: Keys, loaded) -> None:  # type: ignore[no-untyped-def]
    body = _served(client, keys, TEACHERS[0], "task", 5)
    assert body["cold_start"] is False
    assert [item["item_id"] for item in body["data"]] == _expected(loaded, TEACHERS[0], "task", 5)
    assert all(item["reasons_zh"] and item["reasons_en"] for item in body["data"])


def test_a_completion_removes_the_item_at_once(client, keys: Keys, loaded) -> None:  # type: ignore[no-untyped-def]
    teacher = TEACHERS[1]
    first = [item["item_id"] for item in _served(client, keys, teacher)["data"]]
    event = {
        "event_id": f"done-{uuid.uuid4().hex[:8]}",
        "teacher_id": teacher,
        "event": "complete",
        "item_id": first[0],
        "timestamp": "2024-06-01T08:00:00+08:00",
    }
    posted = client.post("/v1/events", json={"events": [event]}, headers=keys.header("platform"))
    assert posted.status_code == 200, posted.text
    after = [item["item_id"] for item in _served(client, keys, teacher)["data"]]
    assert first[0] not in after
    assert after == [i for i in _expected(loaded, teacher, "course", 6) if i != first[0]][:5]


def test_every_served_list_is_audited(client, keys: Keys, loaded) -> None:  # type: ignore[no-untyped-def]
    def count() -> int:
        with client.app.state.nengli.sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        AuditEntry.action == "recommendations", AuditEntry.teacher_id == TEACHERS[2]
                    )
                )
            )

    before = count()
    for _ in range(3):
        _served(client, keys, TEACHERS[2])
    assert count() == before + 3


def test_a_new_version_replaces_the_lists_atomically(  # type: ignore[no-untyped-def]
    client, loaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.auth import Principal
    from service.db.stores.scope import visible_teacher_with_list

    state = client.app.state.nengli
    served = state.registry.require().version
    admin = Principal("k-admin", "admin", None)

    def served_rows(version: str) -> list:  # type: ignore[type-arg]
        """The rows a request reads, reasons included."""
        return visible_teacher_with_list(state.engine, admin, TEACHERS[3], (version, "course"))[2]

    old = served_rows(served)
    assert old and all(row.reasons_zh for row in old)
    seen_during_load: list[list] = []  # type: ignore[type-arg]
    writer = list_store._write_postgres if state.engine.dialect.name == "postgresql" else None
    name = "_write_postgres" if writer else "_write_sqlite"
    original = getattr(list_store, name)

    def spying(session, region, rows):  # type: ignore[no-untyped-def]
        written = original(session, region, rows)
        seen_during_load.append(served_rows(served))
        return written

    monkeypatch.setattr(list_store, name, spying)
    monkeypatch.setattr(list_store, "BATCH_ROWS", 100)
    v2 = _lists(client, version="v2-test")
    v2["reasons_zh"] = [["新版本的理由"] for _ in v2["reasons_zh"]]
    result = _load(client, _write(tmp_path / "v2.parquet", v2))
    assert result.replaced == served and result.model_version == "v2-test"
    # Readers saw the old lists, whole and with the old reasons, until the switch committed.
    assert seen_during_load and all(view == old for view in seen_during_load)
    assert {row.reasons_zh for row in served_rows("v2-test")} == {'["新版本的理由"]'}
    with state.sessions() as session:
        assert session.get(ListPointer, REGION).model_version == "v2-test"
        versions = set(session.scalars(select(RecommendationListRow.model_version).distinct()))
        assert versions == {"v2-test"}
        assert set(session.scalars(select(ListVersion.model_version))) == {"v2-test"}
    # The worker serves another model version: it ranks live rather than use foreign scores.
    assert stored_list(state.engine, REGION, served, TEACHERS[3], "course", 10) == []


def test_a_failed_load_switches_nothing(client, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    served = state.registry.require().version
    before = stored_list(state.engine, REGION, served, TEACHERS[4], "course", 10)
    columns = _lists(client, version="v3-broken")
    columns["kind"][-1] = "lecture"
    with pytest.raises(ImportRowError, match=r"row \d+, field 'kind'"):
        _load(client, _write(tmp_path / "broken.parquet", columns))
    assert stored_list(state.engine, REGION, served, TEACHERS[4], "course", 10) == before


def test_teachers_newer_than_the_batch_get_cold_start(
    client, keys: Keys, world: World, loaded
) -> None:  # type: ignore[no-untyped-def]
    newcomer = f"T8{uuid.uuid4().int % 10**6:06d}"
    put_teacher(client, keys.header("admin"), newcomer, world.school)
    assert _served(client, keys, newcomer)["cold_start"] is True
    # Known to the model, left out by the batch: ranked live, not refused.
    body = _served(client, keys, "T0000040", "course", 5)
    models = client.app.state.nengli.registry.require()
    live = models.recommender.recommend("T0000040", k=5, kind="course")
    assert body["cold_start"] is False
    assert [i["item_id"] for i in body["data"]] == [i.item_id for i in live]


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("rank", 0, "rank"),
        ("score", float("nan"), "score"),
        ("teacher_id", "", "teacher_id"),
        ("reasons_zh", [], "reasons_zh"),
        ("reasons_en", None, "reasons_en"),
    ],
)
def test_bad_rows_name_row_and_field(
    client, world: World, tmp_path: Path, column, value, field
) -> None:  # type: ignore[no-untyped-def]
    columns = _lists(client)
    columns[column][7] = value
    with pytest.raises(ImportRowError, match=rf"row 8, field '{field}'"):
        _load(client, _write(tmp_path / "bad.parquet", columns))


def test_cli_loads_and_refuses_a_foreign_teacher(  # type: ignore[no-untyped-def]
    client, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    from typer.testing import CliRunner

    from service.cli.main import app
    from service.settings import get_settings

    monkeypatch.setenv("NENGLI_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        good = _write(tmp_path / "good.parquet", _lists(client))
        result = CliRunner().invoke(app, ["batch-load", str(good)])
        assert result.exit_code == 0, result.output
        assert '"n_teachers": 10' in result.output
        columns = _lists(client)
        columns["teacher_id"][-1] = world.foreign_teacher
        bad = _write(tmp_path / "foreign.parquet", columns)
        result = CliRunner().invoke(app, ["batch-load", str(bad)], standalone_mode=False)
    finally:
        get_settings.cache_clear()
    assert isinstance(result.exception, ImportRowError)
    assert world.foreign_teacher in str(result.exception)


def test_on_postgresql_the_lists_sit_in_the_region_partition(client, loaded) -> None:  # type: ignore[no-untyped-def]
    engine = client.app.state.nengli.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("partitions exist on PostgreSQL only")
    from sqlalchemy import text

    with engine.connect() as connection:
        in_partition = connection.execute(
            text(f"SELECT count(*) FROM {list_store.partition_name(REGION)}")
        ).scalar()
        in_default = connection.execute(
            text("SELECT count(*) FROM recommendation_lists_default")
        ).scalar()
    assert in_partition == len(loaded["teacher_id"]) and in_default == 0


def test_the_served_reasons_are_the_live_reasons(
    client, keys: Keys, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Lists in the live order: the served answer must be the live answer, reasons included.
    _load(client, _write(tmp_path / "live-order.parquet", _lists(client, reverse=False)))
    models = client.app.state.nengli.registry.require()
    for teacher in TEACHERS[:3]:
        body = _served(client, keys, teacher, "course", 5)
        live = models.recommender.recommend(teacher, k=5, kind="course")
        assert [(i["item_id"], i["reasons_zh"], i["reasons_en"]) for i in body["data"]] == [
            (i.item_id, i.reasons_zh, i.reasons_en) for i in live
        ]


@pytest.mark.parametrize("row_security", [False, True])
def test_one_read_gives_tenancy_completions_and_the_stored_list(  # type: ignore[no-untyped-def]
    client, keys: Keys, loaded, row_security: bool
) -> None:
    from service.auth import Principal
    from service.db.stores.scope import (
        visible_teacher_with_completed,
        visible_teacher_with_list,
    )

    state = client.app.state.nengli
    if row_security and state.engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")
    served = state.registry.require().version
    platform = Principal("k-platform", "platform", REGION)
    teacher = TEACHERS[5]
    scope, completed, stored = visible_teacher_with_list(
        state.engine, platform, teacher, (served, "course"), row_security=row_security
    )
    alone, alone_completed = visible_teacher_with_completed(
        state.engine, platform, teacher, row_security=row_security
    )
    assert scope == alone and sorted(completed) == sorted(alone_completed)
    whole = stored_list(state.engine, REGION, served, teacher, "course", 1000)
    assert [(row.item_id, row.score) for row in stored] == whole
    assert [row.item_id for row in stored] == _expected(loaded, teacher, "course", 1000)
    # The reasons come with the rows, as the JSON the API sends.
    rows = zip(loaded["teacher_id"], loaded["kind"], loaded["reasons_zh"], strict=True)
    assert [json.loads(row.reasons_zh or "null") for row in stored] == [
        zh for t, c, zh in rows if t == teacher and c == "course"
    ]
    # Another model version's lists are not served; no list asked, none read.
    assert (
        visible_teacher_with_list(
            state.engine,
            platform,
            teacher,
            ("another-version", "course"),
            row_security=row_security,
        )[2]
        == []
    )
    assert (
        visible_teacher_with_list(state.engine, platform, teacher, None, row_security=row_security)[
            2
        ]
        == []
    )
    # A key of another region learns nothing, list included: the same 404.
    from competency_model.errors import NotFoundError

    foreign = Principal("k-other", "platform", OTHER_REGION)
    with pytest.raises(NotFoundError, match="not found"):
        visible_teacher_with_list(
            state.engine, foreign, teacher, (served, "course"), row_security=row_security
        )


def _marked(client, reverse: bool = False) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """A list file whose stored reasons say where they come from (unlike any live reason)."""
    columns = _lists(client, reverse=reverse)
    columns["reasons_zh"] = [[f"批量理由 {item}"] for item in columns["item_id"]]
    columns["reasons_en"] = [[f"batch reason {item}"] for item in columns["item_id"]]
    return columns


def test_the_served_reasons_are_the_stored_reasons(  # type: ignore[no-untyped-def]
    client, keys: Keys, world: World, tmp_path: Path
) -> None:
    # A request shows what the batch stored: it does not explain the items again.
    _load(client, _write(tmp_path / "marked.parquet", _marked(client)))
    body = _served(client, keys, TEACHERS[6], "course", 5)
    assert [(i["reasons_zh"], i["reasons_en"]) for i in body["data"]] == [
        ([f"批量理由 {i['item_id']}"], [f"batch reason {i['item_id']}"]) for i in body["data"]
    ]
    assert all(i["signals"] == {} for i in body["data"])


def test_stored_reasons_render_as_the_live_item(client, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from service.auth import Principal
    from service.db.stores.scope import visible_teacher_with_list
    from service.usecases.precomputed import ListedJson
    from service.usecases.ranking_cache import recommendation_json

    _load(client, _write(tmp_path / "live-order.parquet", _lists(client, reverse=False)))
    state = client.app.state.nengli
    models = state.registry.require()
    admin = Principal("k-admin", "admin", None)
    rendering = ListedJson()
    for teacher, kind in [(TEACHERS[7], "course"), (TEACHERS[8], "task")]:
        rows = visible_teacher_with_list(state.engine, admin, teacher, (models.version, kind))[2]
        heads = rendering.heads(models.recommender.catalog_fields())
        explained = models.recommender.explain_listed(
            teacher, [row.item_id for row in rows], [row.score for row in rows]
        )
        # Byte for byte the JSON of the item explained from the model (no signals).
        assert [rendering.render(heads, row) for row in rows] == [
            recommendation_json(item) for item in explained
        ]


def test_old_batch_files_without_reasons_still_load(  # type: ignore[no-untyped-def]
    client, keys: Keys, world: World, tmp_path: Path
) -> None:
    old_file = _write(tmp_path / "old.parquet", _lists(client, reverse=False, reasons=False))
    assert not set(list_store.REASON_COLUMNS) & set(pq.read_schema(old_file).names)
    _load(client, old_file)
    with client.app.state.nengli.sessions() as session:
        assert set(session.scalars(select(RecommendationListRow.reasons_zh).distinct())) == {None}
    # Explained from the model at request time: still the live reasons.
    models = client.app.state.nengli.registry.require()
    body = _served(client, keys, TEACHERS[0], "course", 5)
    live = models.recommender.recommend(TEACHERS[0], k=5, kind="course")
    assert [(i["item_id"], i["reasons_zh"], i["reasons_en"]) for i in body["data"]] == [
        (i.item_id, i.reasons_zh, i.reasons_en) for i in live
    ]


def test_a_file_with_one_reasons_column_is_refused(client, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    columns = _lists(client)
    del columns["reasons_en"]
    with pytest.raises(ImportRowError, match="'reasons_zh' but not 'reasons_en'"):
        _load(client, _write(tmp_path / "half.parquet", columns))


def test_a_model_changed_in_memory_explains_the_list_again(  # type: ignore[no-untyped-def]
    client, keys: Keys, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a fold-in or an erasure (a new revision) the batch's reasons may no longer be the
    # model's: the request explains the stored items from the model as it is now.
    from recommender.ranking import HybridRecommender

    _load(client, _write(tmp_path / "marked.parquet", _marked(client)))
    monkeypatch.setattr(HybridRecommender, "revision", property(lambda self: 1))
    body = _served(client, keys, TEACHERS[9], "course", 5)
    models = client.app.state.nengli.registry.require()
    listed = models.recommender.explain_listed(
        TEACHERS[9], [i["item_id"] for i in body["data"]], [i["score"] for i in body["data"]]
    )
    assert [(i["reasons_zh"], i["reasons_en"]) for i in body["data"]] == [
        (i.reasons_zh, i.reasons_en) for i in listed
    ]
    assert not any(
        reason.startswith("批量理由") for i in body["data"] for reason in i["reasons_zh"]
    )


@pytest.mark.parametrize("row_security", [False, True])
def test_the_list_read_function_gives_what_the_statements_give(  # type: ignore[no-untyped-def]
    client, keys: Keys, world: World, loaded, row_security: bool
) -> None:
    """Migration 0015's ``nengli_list_rows`` (PostgreSQL) answers as the statements it replaces:
    same tenancy, completions and list for every role, the same 404 for what a key may not see,
    no list for another model version or when none is asked. SQLite runs the statements."""
    from competency_model.errors import NotFoundError
    from service.auth import Principal
    from service.db.async_driver import AsyncStatements
    from service.db.stores import scope as scope_module

    state = client.app.state.nengli
    engine = state.read_engine
    on_postgres = engine.dialect.name == "postgresql"
    assert scope_module._has_list_read(engine) is on_postgres
    if not on_postgres:
        if row_security:
            pytest.skip("row-level security exists on PostgreSQL only")
        return
    teacher = TEACHERS[3]
    done = _expected(loaded, teacher, "course", 2)[1]
    event = {
        "event_id": f"done-{uuid.uuid4().hex[:8]}",
        "teacher_id": teacher,
        "event": "complete",
        "item_id": done,
        "timestamp": "2024-06-01T08:00:00+08:00",
    }
    posted = client.post("/v1/events", json={"events": [event]}, headers=keys.header("platform"))
    assert posted.status_code == 200, posted.text
    served = state.registry.require().version
    principals = [
        Principal("k-admin", "admin", None),
        Principal("k-platform", "platform", REGION),
        Principal("k-other", "platform", OTHER_REGION),
        Principal("k-school", "school", world.school),
        Principal("k-teacher", "teacher", world.teacher),
    ]
    asked = [(served, "course"), (served, "task"), ("another-version", "course"), None]

    statements = AsyncStatements(engine, 1)

    def both(principal: Principal, teacher_id: str, listed: tuple[str, str] | None):  # type: ignore[no-untyped-def]
        """By the function (in a thread, then awaited on a loop as the route does) and by the
        statements; the two function answers must agree, the first one is returned."""
        answers = []
        for function, on_loop in ((True, False), (True, True), (False, False)):
            scope_module._list_read_in[engine] = function
            try:
                answers.append(
                    asyncio.run(
                        scope_module.visible_teacher_with_list_async(
                            statements,
                            engine,
                            principal,
                            teacher_id,
                            listed,
                            row_security=row_security,
                        )
                    )
                    if on_loop
                    else scope_module.visible_teacher_with_list(
                        engine, principal, teacher_id, listed, row_security=row_security
                    )
                )
            except NotFoundError as error:
                answers.append(str(error))
        scope_module._list_read_in.pop(engine)
        assert answers[0] == answers[1], (principal, teacher_id, listed)
        return answers[0], answers[2]

    compared = 0
    for principal in principals:
        for teacher_id in (teacher, world.teacher, world.foreign_teacher, "T0000999"):
            for listed in asked:
                by_function, by_statements = both(principal, teacher_id, listed)
                assert by_function == by_statements, (principal, teacher_id, listed)
                compared += not isinstance(by_function, str)
    # The comparison saw lists, completions and refusals, not only 404s.
    by_function = both(principals[1], teacher, (served, "course"))[0]
    assert not isinstance(by_function, str)
    assert done in by_function[1]
    assert [row.item_id for row in by_function[2]] == _expected(loaded, teacher, "course", 1000)
    assert compared >= 12
    assert isinstance(both(principals[2], teacher, (served, "course"))[0], str)
    statements.close()


def test_the_list_rows_reach_the_request_in_rank_order() -> None:
    """``nengli_list_rows`` sends the scope row, then the list in rank order; should the rows
    ever come in another order, the request still gets them best first, each with its own score
    and reasons."""
    from service.auth import Principal
    from service.db.stores import scope as scope_module

    rows = [
        ("S1", REGION, ["C2"], None, None, None, None, None),
        (None, None, None, 3, "C3", 0.1, '["z3"]', '["e3"]'),
        (None, None, None, 1, "C1", 0.9, '["z1"]', '["e1"]'),
        (None, None, None, 2, "C2", 0.5, None, None),
    ]
    scope, completed, stored = scope_module._list_read_answer(
        Principal("k-admin", "admin", None), "T1", rows
    )
    assert (scope.school_id, scope.region, completed) == ("S1", REGION, ["C2"])
    assert stored == [
        ListedRow("C1", 0.9, '["z1"]', '["e1"]'),
        ListedRow("C2", 0.5, None, None),
        ListedRow("C3", 0.1, '["z3"]', '["e3"]'),
    ]
