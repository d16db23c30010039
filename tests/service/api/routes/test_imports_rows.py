"""POST /v1/imports (issues 14 and 17): odd bytes are 4xx, unknown schools/teachers are row errors.

Issue 17 row 2: bare CR line endings, a lone CR in a field and PNG bytes named ``.csv`` gave
500s. Row 10: one teacher naming an unknown school refused the whole file with 404 and hid the
other rows' errors. Issue 14: a schools file without region takes the key's region.
"""

from __future__ import annotations

import uuid

from tests.service.conftest import Keys, World, assert_problem

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _post(client, keys: Keys, name: str, body: bytes, role: str = "platform"):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/imports?filename={name}", content=body, headers=keys.header(role))


def _school(client, keys: Keys) -> str:  # type: ignore[no-untyped-def]
    school_id = f"SR{uuid.uuid4().hex[:6].upper()}"
    body = f"学校编号,教学环境\n{school_id},B\n".encode()
    response = _post(client, keys, "schools.csv", body)
    assert response.status_code == 200, response.text
    return school_id


def test_schools_file_without_region_takes_the_key_region(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    school_id = _school(client, keys)
    stored = client.get(f"/v1/schools/{school_id}", headers=keys.header("platform"))
    assert stored.status_code == 200, stored.text
    assert stored.json()["region"] == "江苏"


def test_bare_cr_line_endings_are_read(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    school_id = _school(client, keys)
    body = f"教师编号,学校编号,学段,学科\rTCR{school_id[2:]},{school_id},初中,数学\r".encode()
    response = _post(client, keys, "teachers.csv", body)
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == {"teachers": 1}


def test_lone_cr_inside_a_field_is_never_a_server_error(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    school_id = _school(client, keys)
    body = f"教师编号,学校编号,学段,学科\nTLC{school_id[2:]},{school_id},初\r中,数学\n".encode()
    response = _post(client, keys, "teachers.csv", body)
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.json()["rejected"] >= 1  # the cut row is a row error, not a silent row


def test_png_named_csv_is_a_problem_in_raw_and_multipart(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    raw = _post(client, keys, "teachers.csv", PNG)
    assert "PNG" in assert_problem(raw, 422)["detail"]
    form = client.post(
        "/v1/imports",
        files={"file": ("teachers.csv", PNG, "text/csv")},
        headers=keys.header("platform"),
    )
    assert "PNG" in assert_problem(form, 422)["detail"]


def test_teacher_naming_an_unknown_school_rejects_only_that_row(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    school_id = _school(client, keys)
    tag = school_id[2:]
    body = (
        "教师编号,学校编号,学段,学科\n"
        f"TU{tag}1,{school_id},初中,数学\n"
        f"TU{tag}2,NOSUCHSCHOOL,初中,数学\n"
        f"TU{tag}3,{school_id},大学,数学\n"
    ).encode()
    response = _post(client, keys, "teachers.csv", body)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["inserted"] == {"teachers": 1}
    assert {(r["row"], r["field"]) for r in document["rejected_rows"]} == {
        (3, "school_id"),
        (4, "stage"),
    }


def test_teacher_naming_a_foreign_school_is_a_row_error_like_an_unknown_one(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = (
        f"教师编号,学校编号,学段,学科\nTF{uuid.uuid4().hex[:6]},{world.foreign_school},初中,数学\n"
    )
    response = _post(client, keys, "teachers.csv", body.encode())
    assert response.status_code == 200, response.text
    rejected = response.json()["rejected_rows"]
    assert [r["field"] for r in rejected] == ["school_id"]
    assert "unknown school_id" in rejected[0]["reason_en"]


def test_grade_naming_a_foreign_teacher_is_a_row_error(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = f"教师编号,能力点,考核结果,考核日期\n{world.foreign_teacher},A1,合格,2024-06-30\n"
    response = _post(client, keys, "grades.csv", body.encode())
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 1
    assert response.json()["rejected_rows"][0]["field"] == "teacher_id"
