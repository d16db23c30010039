"""POST /v1/imports: platform exports into the database, idempotent, tenancy-checked, reported."""

from __future__ import annotations

import io
import uuid

import openpyxl

from tests.service.conftest import Keys, World, assert_problem

SCHOOL_HEADER = (
    "school_id,region,city,district,urban_rural,environment,n_teachers,chosen_points,rollout_batch"
)


def _schools_csv(school_id: str, region: str = "江苏") -> bytes:
    return f"{SCHOOL_HEADER}\n{school_id},{region},南京,玄武区,urban,blended,1,A1;B2,1\n".encode()


def _teachers_xlsx(rows: list[tuple[str, str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["教师编号", "学校编号", "学段", "学科", "教龄", "教研组"])
    for teacher_id, school_id in rows:
        sheet.append([teacher_id, school_id, "初中", "数学", 5, "初中数学组"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _post(client, keys: Keys, name: str, body: bytes, role: str = "platform", **params: str):  # type: ignore[no-untyped-def]
    query = "&".join(f"{k}={v}" for k, v in {"filename": name, **params}.items())
    return client.post(f"/v1/imports?{query}", content=body, headers=keys.header(role))


def test_import_then_reimport_changes_nothing(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    school_id = f"SI{uuid.uuid4().hex[:6].upper()}"
    first = _post(client, keys, "schools.csv", _schools_csv(school_id))
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == {"schools": 1}
    teachers = _teachers_xlsx([(f"TI{school_id[2:]}{i}", school_id) for i in range(3)])
    loaded = _post(client, keys, "教师名单.xlsx", teachers)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["inserted"] == {"teachers": 3} and loaded.json()["rejected"] == 0
    again = _post(client, keys, "教师名单.xlsx", teachers)
    assert again.json()["inserted"] == {"teachers": 0} and again.json()["updated"] == {
        "teachers": 3
    }
    listed = client.get(f"/v1/teachers?school_id={school_id}", headers=keys.header("platform"))
    assert listed.json()["count"] == 3


def test_rows_outside_the_key_scope_refuse_the_file(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, keys, "schools.csv", _schools_csv(world.foreign_school, "浙江"))
    assert_problem(response, 404)
    foreign = client.get(
        f"/v1/schools/{world.foreign_school}", headers=keys.header("other_platform")
    )
    assert foreign.json()["region"] == "浙江"


def test_strict_import_rejects_a_file_with_bad_rows(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = f"{SCHOOL_HEADER}\nSX1,江苏,南京,玄武区,urban,hologram,1,A1,1\n".encode()
    lenient = _post(client, keys, "schools.csv", body)
    assert lenient.status_code == 200 and lenient.json()["rejected"] == 1
    assert lenient.json()["rejected_rows"][0]["field"] == "environment"
    assert_problem(_post(client, keys, "schools.csv", body, strict="true"), 422)


def test_unreadable_upload_is_a_problem(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    assert_problem(_post(client, keys, "notes.csv", "这不是表格".encode()), 422)
    assert_problem(_post(client, keys, "data.exe", b"MZ"), 422)
    assert_problem(_post(client, keys, "schools.csv", b"", role="platform"), 422)
    assert_problem(_post(client, keys, "schools.csv", _schools_csv("S1"), role="teacher"), 403)
