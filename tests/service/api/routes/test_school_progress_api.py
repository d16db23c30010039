"""GET /v1/schools/{id}/progress: a school's own progress, scoped to the caller, JSON and xlsx."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.service.conftest import Keys, World, assert_problem


@pytest.mark.parametrize("role", ["school", "platform", "admin"])
def test_the_school_and_its_region_see_the_schools_progress(
    client, keys: Keys, world: World, role: str
) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/schools/{world.school}/progress", headers=keys.header(role))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["school_id"] == world.school and body["policy"]
    teachers = {row["teacher_id"] for row in body["teachers"]}
    assert world.teacher in teachers and world.sibling_teacher not in teachers
    assert (
        body["n_teachers"] == len(body["teachers"]) == sum(g["n_teachers"] for g in body["groups"])
    )
    behind = [row for row in body["teachers"] if not row["compliant"]]
    assert [row["teacher_id"] for row in body["behind"]] == sorted(
        (row["teacher_id"] for row in behind),
        key=lambda tid: (-next(r["hours_missing"] for r in behind if r["teacher_id"] == tid), tid),
    )
    assert all(row["reasons_zh"] and row["reasons_en"] for row in body["behind"])
    assert body["n_compliant"] == len(body["teachers"]) - len(behind)


@pytest.mark.parametrize(
    ("role", "school"),
    [("school", "sibling_school"), ("teacher", "school"), ("other_platform", "school")],
)
def test_outside_the_scope_is_404(client, keys: Keys, world: World, role: str, school: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/schools/{getattr(world, school)}/progress", headers=keys.header(role)
    )
    assert_problem(response, 404)


def test_the_progress_exports_to_xlsx_with_three_sheets(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    json_body = client.get(
        f"/v1/schools/{world.school}/progress", headers=keys.header("school")
    ).json()
    response = client.get(
        f"/v1/schools/{world.school}/progress",
        params={"format": "xlsx"},
        headers=keys.header("school"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["教研组 groups", "教师 teachers", "未达标名单 behind"]
    teachers = book["教师 teachers"]
    assert teachers.cell(1, 1).value == "教师编号 / teacher"
    assert teachers.max_row - 1 == json_body["n_teachers"]
    assert book["未达标名单 behind"].max_row - 1 == len(json_body["behind"])
    # No cell is a formula, whatever a 教研组 is called.
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row)


def test_a_formula_like_research_group_is_exported_as_text(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    admin = keys.header("admin")
    current = client.get(f"/v1/teachers/{world.teacher}", headers=admin).json()
    evil = '=HYPERLINK("http://evil.example/","组")'
    body = {
        k: current[k] for k in ("school_id", "stage", "subject", "years_of_service") if k in current
    }
    put = client.put(
        f"/v1/teachers/{world.teacher}", json={**body, "research_group": evil}, headers=admin
    )
    assert put.status_code in (200, 201), put.text
    try:
        response = client.get(
            f"/v1/schools/{world.school}/progress", params={"format": "xlsx"}, headers=admin
        )
        book = load_workbook(BytesIO(response.content))
        values = [cell.value for row in book["教师 teachers"].iter_rows() for cell in row]
        assert "'" + evil in values and evil not in values
    finally:
        restore = {**body, "research_group": current.get("research_group")}
        client.put(f"/v1/teachers/{world.teacher}", json=restore, headers=admin)


def test_the_read_is_audited(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    client.get(f"/v1/schools/{world.school}/progress", headers=keys.header("school"))
    from sqlalchemy import select

    from service.db.models import AuditEntry

    state = client.app.state.nengli
    with state.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.school_id == world.school)
        ).all()
    assert "school_progress" in actions
