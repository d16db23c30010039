"""GET /v1/audit/reads: the read audit for a region administrator, scoped, paged, JSON or CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from service.db.models import AuditEntry
from tests.service.conftest import Keys, TestClient, World, assert_problem


def _read_as(client: TestClient, keys: Keys, role: str, teacher: str) -> None:
    assert client.get(f"/v1/teachers/{teacher}", headers=keys.header(role)).status_code == 200


def _entries(client: TestClient, keys: Keys, role: str, **params: str) -> list[dict[str, object]]:
    response = client.get(
        "/v1/audit/reads", params={"limit": 500, **params}, headers=keys.header(role)
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_region_admin_sees_reads_of_their_teachers(client, keys, world: World) -> None:
    _read_as(client, keys, "school", world.teacher)
    entries = _entries(client, keys, "platform", teacher=world.teacher)
    assert entries, "the school key's read of its teacher must be listed"
    assert {e["teacher_id"] for e in entries} == {world.teacher}
    assert all({"at", "key_id", "role", "action"} <= e.keys() for e in entries)


def test_another_regions_admin_sees_nothing_of_this_region(client, keys, world: World) -> None:
    _read_as(client, keys, "admin", world.teacher)
    _read_as(client, keys, "admin", world.foreign_teacher)
    assert _entries(client, keys, "other_platform", teacher=world.teacher) == []
    foreign = _entries(client, keys, "other_platform")
    own_schools = {world.school, world.sibling_school}
    assert foreign, "the other region sees its own reads"
    assert not any(e["school_id"] in own_schools for e in foreign)
    assert not any(e["teacher_id"] in (world.teacher, world.sibling_teacher) for e in foreign)
    assert any(e["teacher_id"] == world.foreign_teacher for e in foreign)


def test_pages_follow_each_other_without_overlap(client, keys, world: World) -> None:
    for _ in range(3):
        _read_as(client, keys, "admin", world.teacher)
    first = client.get(
        "/v1/audit/reads",
        params={"teacher": world.teacher, "limit": 2},
        headers=keys.header("platform"),
    ).json()
    assert first["count"] == 2 and first["next_cursor"]
    second = client.get(
        "/v1/audit/reads",
        params={"teacher": world.teacher, "limit": 2, "cursor": first["next_cursor"]},
        headers=keys.header("platform"),
    ).json()
    ids = [e["id"] for e in first["data"]] + [e["id"] for e in second["data"]]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)


def test_since_until_and_actor_filter(client, keys, world: World) -> None:
    _read_as(client, keys, "school", world.teacher)
    me = client.get("/v1/me", headers=keys.header("school")).json()["key_id"]
    now = datetime.now(UTC)
    recent = _entries(
        client,
        keys,
        "platform",
        actor=me,
        since=(now - timedelta(minutes=5)).isoformat(),
        until=(now + timedelta(minutes=5)).isoformat(),
    )
    assert recent and {e["key_id"] for e in recent} == {me}
    future = _entries(client, keys, "platform", since=(now + timedelta(days=1)).isoformat())
    assert future == []


def test_naive_datetimes_and_bad_cursors_are_400(client, keys, world: World) -> None:
    naive = client.get("/v1/audit/reads?since=2026-01-01T00:00:00", headers=keys.header("platform"))
    assert "timezone" in assert_problem(naive, 400)["detail"]
    bad = client.get("/v1/audit/reads?cursor=eA", headers=keys.header("platform"))
    assert_problem(bad, 400)


def test_school_and_teacher_keys_are_refused(client, keys, world: World) -> None:
    for role in ("school", "teacher"):
        assert_problem(client.get("/v1/audit/reads", headers=keys.header(role)), 403)


def test_csv_export_is_excel_ready_and_formula_safe(client, keys, world: World) -> None:
    marker = f'=HYPERLINK("http://evil.example/","{uuid.uuid4().hex}")'
    state = client.app.state.nengli
    with state.sessions() as session:
        session.add(
            AuditEntry(
                at=datetime.now(UTC),
                key_id="probe",
                role="admin",
                action="read_teacher",
                teacher_id=world.teacher,
                school_id=world.school,
                detail=marker,
            )
        )
        session.commit()
    response = client.get(
        "/v1/audit/reads",
        params={"format": "csv", "actor": "probe", "limit": 500},
        headers=keys.header("platform"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["id", "at", "key_id", "role", "action", "teacher_id", "school_id", "detail"]
    assert rows[-1][-1] == "'" + marker
    other = client.get(
        "/v1/audit/reads",
        params={"format": "csv", "actor": "probe"},
        headers=keys.header("other_platform"),
    )
    assert len(list(csv.reader(io.StringIO(other.content.decode("utf-8"))))) == 1  # header only


def test_the_export_itself_is_audited(client, keys, world: World) -> None:
    client.get("/v1/audit/reads?limit=1", headers=keys.header("platform"))
    me = client.get("/v1/me", headers=keys.header("platform")).json()["key_id"]
    exports = _entries(client, keys, "admin", actor=me)
    assert any(e["action"] == "audit_export" for e in exports)
