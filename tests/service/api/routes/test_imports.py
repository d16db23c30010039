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


def test_multipart_upload_imports_like_a_raw_body(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    """A browser form or ``curl -F file=@教师名单.xlsx``: the upload's own name picks the parser."""
    school_id = f"SM{uuid.uuid4().hex[:6].upper()}"
    headers = keys.header("platform")
    schools = client.post(
        "/v1/imports",
        files={"file": ("schools.csv", _schools_csv(school_id), "text/csv")},
        headers=headers,
    )
    assert schools.status_code == 200, schools.text
    assert schools.json()["filename"] == "schools.csv" and schools.json()["inserted"] == {
        "schools": 1
    }
    teachers = _teachers_xlsx([(f"TM{school_id[2:]}{i}", school_id) for i in range(2)])
    loaded = client.post(
        "/v1/imports", files={"file": ("教师名单.xlsx", teachers)}, headers=headers
    )
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["inserted"] == {"teachers": 2}
    # ?filename= overrides the upload's name (e.g. a form that sends "blob").
    renamed = client.post(
        "/v1/imports?filename=teachers.xlsx", files={"file": ("blob", teachers)}, headers=headers
    )
    assert renamed.status_code == 200 and renamed.json()["updated"] == {"teachers": 2}


def test_bad_multipart_uploads_are_problems_that_write_nothing(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    headers = keys.header("platform")
    before = client.get("/v1/teachers?limit=500", headers=headers).json()["count"]
    wrong_field = client.post(
        "/v1/imports", files={"upload": ("schools.csv", b"x")}, headers=headers
    )
    assert "'file'" in assert_problem(wrong_field, 422)["detail"]
    bad_name = client.post(
        "/v1/imports", files={"file": ("../../etc/passwd.csv.exe", b"x")}, headers=headers
    )
    assert "not accepted" in assert_problem(bad_name, 422)["detail"]
    no_name = client.post("/v1/imports", files={"file": ("blob", b"a,b\n1,2\n")}, headers=headers)
    assert_problem(no_name, 422)
    empty = client.post("/v1/imports", files={"file": ("schools.csv", b"")}, headers=headers)
    assert "empty" in assert_problem(empty, 422)["detail"]
    broken = client.post(
        "/v1/imports",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n',
        headers={**headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= broken.status_code < 500
    assert broken.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/teachers?limit=500", headers=headers).json()["count"] == before
    raw_without_name = client.post("/v1/imports", content=b"a,b\n", headers=headers)
    assert "filename" in assert_problem(raw_without_name, 422)["detail"]
