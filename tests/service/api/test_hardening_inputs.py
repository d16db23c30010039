"""Inputs that used to give a 500 (issue 17, rows 1, 3, 5, 6, 7): each is now a 4xx problem
naming the field, or a correct answer. Every test runs on SQLite and on PostgreSQL.

The tests write into regions and ids of their own (``硬化…``, ``SH…``, ``TH…``), so the shared
tenancy world of the other service tests is not disturbed.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from tests.service.conftest import Keys, assert_problem


def _ids() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"硬化{tag}", f"SH{tag}", f"TH{tag}"


def _school(client: object, keys: Keys, region: str, school_id: str, **extra: object) -> None:
    body = {"region": region, "environment": "smart", **extra}
    response = client.put(f"/v1/schools/{school_id}", json=body, headers=keys.header("admin"))  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text


def _teacher(client: object, keys: Keys, teacher_id: str, school_id: str, **extra: object) -> None:
    body = {"school_id": school_id, "stage": "小学", "subject": "数学", **extra}
    response = client.put(f"/v1/teachers/{teacher_id}", json=body, headers=keys.header("admin"))  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text


def test_region_progress_counts_a_school_without_rollout_batch(client, keys: Keys) -> None:
    region, school_id, _ = _ids()
    _school(client, keys, region, school_id)
    _school(client, keys, region, school_id + "b", rollout_batch=1)

    response = client.get(f"/v1/regions/{region}/progress", headers=keys.header("admin"))

    assert response.status_code == 200, response.text
    rollout = {row["batch"]: row for row in response.json()["rollout"]}
    assert rollout[None]["n_schools"] == 1
    assert rollout[1]["n_schools"] == 1
    assert response.json()["n_schools"] == 2


@pytest.mark.parametrize("value", ["组\x00A", "组\x01A", "组\x1bA", "组\x7fA"])
def test_teacher_field_with_control_character_is_refused(client, keys: Keys, value: str) -> None:
    region, school_id, teacher_id = _ids()
    _school(client, keys, region, school_id)
    body = {"school_id": school_id, "stage": "小学", "subject": "数学", "research_group": value}

    response = client.put(f"/v1/teachers/{teacher_id}", json=body, headers=keys.header("admin"))

    problem = assert_problem(response, 422)
    assert "research_group" in problem["detail"]
    assert "U+00" in problem["detail"]


def test_evidence_title_with_nul_is_refused(client, keys: Keys, world) -> None:
    body = {
        "point": "A1",
        "items": [
            {
                "artifact": "教学设计",
                "title": "分数\x00导入",
                "media": "document",
                "file_ref": "doc-1",
                "lesson": "分数",
                "class_name": "三(2)班",
            }
        ],
    }
    response = client.post(
        f"/v1/teachers/{world.teacher}/evidence", json=body, headers=keys.header("admin")
    )

    problem = assert_problem(response, 422)
    assert "items.0.title" in problem["detail"]


def test_portfolio_xlsx_writes_formula_as_text(client, keys: Keys) -> None:
    region, school_id, teacher_id = _ids()
    _school(client, keys, region, school_id)
    formula = '=HYPERLINK("http://evil.example/","教研组")'
    _teacher(client, keys, teacher_id, school_id, research_group=formula)

    response = client.get(
        f"/v1/teachers/{teacher_id}/portfolio?format=xlsx", headers=keys.header("admin")
    )

    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["概况 summary"]
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    cell = cells["教研组 research group"]
    assert cell.value == formula
    assert cell.data_type == "s"


def test_school_assessment_xlsx_writes_formula_as_text(client, keys: Keys) -> None:
    region, school_id, teacher_id = _ids()
    _school(client, keys, region, school_id)
    _teacher(client, keys, teacher_id, school_id, research_group="@SUM(A1:A2)")

    response = client.get(
        f"/v1/schools/{school_id}/assessment?format=xlsx", headers=keys.header("admin")
    )

    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["教师汇总 teachers"]
    group = sheet.cell(row=2, column=2)
    assert group.value == "@SUM(A1:A2)"
    assert group.data_type == "s"


@pytest.mark.parametrize(
    "timestamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1800-01-01T00:00:00Z"]
)
def test_event_timestamp_out_of_range_is_refused(client, keys: Keys, world, timestamp: str) -> None:
    event = {
        "event_id": f"evt-range-{uuid.uuid4().hex}",
        "teacher_id": world.teacher,
        "event": "assessment",
        "point": "A1",
        "grade": "合格",
        "timestamp": timestamp,
    }
    response = client.post("/v1/events", json={"events": [event]}, headers=keys.header("admin"))

    problem = assert_problem(response, 422)
    assert "timestamp" in problem["detail"]


def test_import_with_filename_over_255_bytes_is_imported(client, keys: Keys) -> None:
    region, school_id, _ = _ids()
    name = "学" * 90 + ".csv"
    assert len(name.encode("utf-8")) > 255
    header = "school_id,region,city,district,urban_rural,environment,n_teachers,chosen_points"
    body = f"{header},rollout_batch\n{school_id},{region},南京,玄武区,urban,blended,1,A1,1\n"

    response = client.post(
        "/v1/imports",
        files={"file": (name, body.encode(), "text/csv")},
        headers=keys.header("admin"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["filename"] == name
    assert response.json()["inserted"] == {"schools": 1}


@pytest.mark.parametrize("cursor", ["AA", "AAE", "G0E"])
def test_teacher_cursor_decoding_to_control_characters_is_refused(
    client, keys: Keys, cursor: str
) -> None:
    response = client.get(f"/v1/teachers?cursor={cursor}", headers=keys.header("admin"))

    problem = assert_problem(response, 400)
    assert "cursor" in problem["detail"]


@pytest.mark.parametrize("path", ["/v1/regions/江%00苏/progress", "/v1/regions/%01/pairing"])
def test_path_with_control_character_is_refused(client, keys: Keys, path: str) -> None:
    response = client.get(path, headers=keys.header("admin"))

    problem = assert_problem(response, 400)
    assert "control character" in problem["detail"]


def test_query_with_nul_is_refused(client, keys: Keys, world) -> None:
    response = client.get(
        f"/v1/teachers/{world.teacher}/recommendations?policy=a%00b", headers=keys.header("admin")
    )

    problem = assert_problem(response, 400)
    assert "policy" in problem["detail"]


def test_school_id_with_nul_is_not_stored(client, keys: Keys) -> None:
    region, school_id, _ = _ids()
    response = client.put(
        f"/v1/schools/{school_id}%00",
        json={"region": region, "environment": "smart"},
        headers=keys.header("admin"),
    )

    assert_problem(response, 400)
    listed = client.get("/v1/schools?limit=500", headers=keys.header("admin"))
    assert listed.status_code == 200
    assert not [s for s in listed.json()["data"] if "\x00" in s["school_id"]]


def test_timestamps_in_range_still_accepted(client, keys: Keys, world) -> None:
    event = {
        "event_id": f"evt-ok-{uuid.uuid4().hex}",
        "teacher_id": world.teacher,
        "event": "assessment",
        "point": "A1",
        "grade": "合格",
        "timestamp": datetime(2024, 3, 1, 8, tzinfo=UTC).isoformat(),
    }
    response = client.post("/v1/events", json={"events": [event]}, headers=keys.header("admin"))

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
