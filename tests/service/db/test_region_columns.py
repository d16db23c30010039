"""The region on the rows that grow with teachers follows the teacher's school (both backends)."""

from __future__ import annotations

from sqlalchemy import select

from service.db.models import Event, Grade, Response, Teacher
from tests.service.conftest import REGION, Keys, World, put_school, put_teacher


def test_rows_follow_a_school_and_a_teacher_to_another_region(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    admin = keys.header("admin")
    school, other_school, teacher = "S956001", "S956002", "T9560001"
    put_school(client, admin, school, "福建")
    put_school(client, admin, other_school, "江西")
    put_teacher(client, admin, teacher, school)
    events = [
        {
            "event_id": "follow-1",
            "teacher_id": teacher,
            "event": "progress",
            "item_id": "CRS-0001",
            "value": 0.5,
            "timestamp": "2026-11-02T08:00:00+08:00",
        },
        {
            "event_id": "follow-2",
            "teacher_id": teacher,
            "event": "assessment",
            "point": "A1",
            "grade": "合格",
            "timestamp": "2026-11-03T08:00:00+08:00",
        },
    ]
    response = client.post("/v1/events", json={"events": events}, headers=admin)
    assert response.status_code == 200, response.text

    def regions() -> set[str]:
        with client.app.state.nengli.sessions() as session:
            found = {session.scalar(select(Teacher.region).where(Teacher.teacher_id == teacher))}
            for model in (Event, Grade, Response):
                found.update(
                    session.scalars(select(model.region).where(model.teacher_id == teacher))
                )
            return {str(r) for r in found}

    assert regions() == {"福建"}
    put_school(client, admin, school, REGION)  # the school changes region
    assert regions() == {REGION}
    put_teacher(client, admin, teacher, other_school)  # the teacher changes school
    assert regions() == {"江西"}
