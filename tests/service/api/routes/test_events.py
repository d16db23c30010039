"""POST /v1/events: all-or-nothing batches, idempotent replays, 409 on reused ids."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from service.db.models import Event, Grade
from tests.service.conftest import Keys, World, assert_problem


def _event(world: World, event_id: str, **overrides: object) -> dict[str, object]:
    event = {
        "event_id": event_id,
        "teacher_id": world.teacher,
        "event": "progress",
        "item_id": "CRS-0001",
        "value": 0.5,
        "timestamp": "2024-03-01T08:00:00+08:00",
    }
    event.update(overrides)
    return event


def _count(client, prefix: str) -> int:  # type: ignore[no-untyped-def]
    with client.app.state.nengli.sessions() as session:
        return session.scalar(select(func.count()).where(Event.event_id.like(f"{prefix}%")))


def test_batch_is_stored_and_replay_is_idempotent(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    prefix = uuid.uuid4().hex[:8]
    batch = {"events": [_event(world, f"{prefix}-{i}", value=i / 10) for i in range(5)]}
    first = client.post("/v1/events", json=batch, headers=keys.header("platform"))
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 5, "replayed": 0, "received": 5}
    again = client.post("/v1/events", json=batch, headers=keys.header("platform"))
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "replayed": 5, "received": 5}
    assert _count(client, prefix) == 5


def test_invalid_event_rejects_whole_batch(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    prefix = uuid.uuid4().hex[:8]
    events = [
        _event(world, f"{prefix}-ok"),
        _event(world, f"{prefix}-bad", value=3.0),
        _event(world, f"{prefix}-naive", timestamp="2024-03-01T08:00:00"),
    ]
    response = client.post("/v1/events", json={"events": events}, headers=keys.header("platform"))
    body = assert_problem(response, 422)
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert "between 0 and 1" in body["rejected"][0]["errors"][0]
    assert _count(client, prefix) == 0


def test_reused_id_with_other_content_conflicts(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    prefix = uuid.uuid4().hex[:8]
    ok = client.post(
        "/v1/events",
        json={"events": [_event(world, f"{prefix}-1")]},
        headers=keys.header("platform"),
    )
    assert ok.status_code == 200
    changed = [_event(world, f"{prefix}-2"), _event(world, f"{prefix}-1", value=0.9)]
    response = client.post("/v1/events", json={"events": changed}, headers=keys.header("platform"))
    body = assert_problem(response, 409)
    assert body["conflicting_event_ids"] == [f"{prefix}-1"]
    assert _count(client, prefix) == 1


def test_same_id_twice_in_batch_with_other_content_is_invalid(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    prefix = uuid.uuid4().hex[:8]
    events = [_event(world, f"{prefix}-1"), _event(world, f"{prefix}-1", value=0.1)]
    response = client.post("/v1/events", json={"events": events}, headers=keys.header("platform"))
    assert_problem(response, 422)


def test_foreign_teacher_event_is_rejected_without_leak(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    prefix = uuid.uuid4().hex[:8]
    foreign = client.post(
        "/v1/events",
        json={"events": [_event(world, f"{prefix}-f", teacher_id=world.foreign_teacher)]},
        headers=keys.header("platform"),
    )
    missing = client.post(
        "/v1/events",
        json={"events": [_event(world, f"{prefix}-m", teacher_id="T7777777")]},
        headers=keys.header("platform"),
    )
    body_foreign, body_missing = assert_problem(foreign, 422), assert_problem(missing, 422)
    assert body_foreign["rejected"][0]["errors"][0].replace(
        world.foreign_teacher, "X"
    ) == body_missing["rejected"][0]["errors"][0].replace("T7777777", "X")


def test_assessment_event_stores_grade(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    event = _event(
        world,
        f"{uuid.uuid4().hex[:8]}-a",
        event="assessment",
        item_id=None,
        value=None,
        point="A1",
        grade="优秀",
        teacher_id=world.sibling_teacher,
    )
    response = client.post("/v1/events", json={"events": [event]}, headers=keys.header("platform"))
    assert response.status_code == 200, response.text
    with client.app.state.nengli.sessions() as session:
        grades = session.scalars(
            select(Grade.grade).where(Grade.teacher_id == world.sibling_teacher)
        )
        assert "优秀" in list(grades)


def test_tenants_have_separate_event_id_spaces(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    event_id = f"{uuid.uuid4().hex[:8]}-shared"
    mine = client.post(
        "/v1/events", json={"events": [_event(world, event_id)]}, headers=keys.header("platform")
    )
    theirs = client.post(
        "/v1/events",
        json={"events": [_event(world, event_id, teacher_id=world.foreign_teacher, value=0.2)]},
        headers=keys.header("other_platform"),
    )
    assert (mine.status_code, theirs.status_code) == (200, 200)


def test_teacher_key_cannot_push_events(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/v1/events", json={"events": [_event(world, "x-1")]}, headers=keys.header("teacher")
    )
    assert_problem(response, 403)
