"""Identical imports at the same time store every row once and never fail (issue 17, row 8).

Ten threads send the same file through the running app at once; the routes run in the app's
thread pool, so the imports really overlap on the database. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from service.db.models import Event, Grade
from tests.service.conftest import Keys

N_REQUESTS = 10
SCHOOL_HEADER = (
    "school_id,region,city,district,urban_rural,environment,n_teachers,chosen_points,rollout_batch"
)


def _world(client: object, keys: Keys, n_teachers: int) -> list[str]:
    tag = uuid.uuid4().hex[:8]
    school_id = f"SC{tag}"
    admin = keys.header("admin")
    body = {"region": f"并发{tag}", "environment": "smart", "rollout_batch": 1}
    assert client.put(f"/v1/schools/{school_id}", json=body, headers=admin).status_code == 200  # type: ignore[attr-defined]
    teachers = [f"TC{tag}{i:02d}" for i in range(n_teachers)]
    for teacher_id in teachers:
        person = {"school_id": school_id, "stage": "小学", "subject": "数学"}
        response = client.put(f"/v1/teachers/{teacher_id}", json=person, headers=admin)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
    return teachers


def _post_concurrently(client: object, keys: Keys, name: str, body: bytes) -> list[object]:
    def post(_: int) -> object:
        return client.post(  # type: ignore[attr-defined]
            f"/v1/imports?filename={name}", content=body, headers=keys.header("admin")
        )

    with ThreadPoolExecutor(max_workers=N_REQUESTS) as pool:
        return list(pool.map(post, range(N_REQUESTS)))


def _count(client: object, model: type, teachers: list[str]) -> int:
    with client.app.state.nengli.sessions() as session:  # type: ignore[attr-defined]
        query = select(func.count()).select_from(model).where(model.teacher_id.in_(teachers))
        return int(session.scalar(query))


def test_concurrent_identical_grade_imports_store_each_grade_once(client, keys: Keys) -> None:
    teachers = _world(client, keys, 10)
    lines = ["teacher_id,point,grade,assessed_at"]
    for teacher_id in teachers:
        for point in ("A1", "A2", "B1", "B2"):
            lines.append(f"{teacher_id},{point},合格,2024-05-01 10:00:00")
    body = ("\n".join(lines) + "\n").encode()

    responses = _post_concurrently(client, keys, "grades.csv", body)

    assert [r.status_code for r in responses] == [200] * N_REQUESTS, [r.text for r in responses]
    assert sum(r.json()["inserted"].get("grades", 0) for r in responses) == 40
    assert _count(client, Grade, teachers) == 40


def test_concurrent_identical_event_imports_store_each_event_once(client, keys: Keys) -> None:
    teachers = _world(client, keys, 5)
    lines = ["event_id,teacher_id,item_id,event,value,timestamp"]
    for teacher_id in teachers:
        for k in range(8):
            lines.append(
                f"ev-{teacher_id}-{k},{teacher_id},CRS-000{k + 1},enrol,,2024-03-0{k + 1} 08:00:00"
            )
    body = ("\n".join(lines) + "\n").encode()

    responses = _post_concurrently(client, keys, "events.csv", body)

    assert [r.status_code for r in responses] == [200] * N_REQUESTS, [r.text for r in responses]
    assert sum(r.json()["inserted"].get("events", 0) for r in responses) == 40
    assert _count(client, Event, teachers) == 40


def test_concurrent_identical_event_batches_never_fail(client, keys: Keys, world) -> None:
    tag = uuid.uuid4().hex[:8]
    events = [
        {
            "event_id": f"evt-{tag}-{k}",
            "teacher_id": world.teacher,
            "event": "assessment",
            "point": "B3",
            "grade": "优秀",
            "timestamp": f"2024-06-0{k + 1}T08:00:00+08:00",
        }
        for k in range(5)
    ]

    def post(_: int) -> object:
        return client.post("/v1/events", json={"events": events}, headers=keys.header("admin"))

    with ThreadPoolExecutor(max_workers=N_REQUESTS) as pool:
        responses = list(pool.map(post, range(N_REQUESTS)))

    assert [r.status_code for r in responses] == [200] * N_REQUESTS, [r.text for r in responses]
    assert sum(r.json()["accepted"] for r in responses) == 5
    with client.app.state.nengli.sessions() as session:
        stored = session.scalar(
            select(func.count()).select_from(Event).where(Event.event_id.like(f"evt-{tag}-%"))
        )
    assert stored == 5
