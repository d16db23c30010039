"""Malformed input of every kind answers 4xx application/problem+json, never 5xx or a traceback."""

from __future__ import annotations

import pytest

from tests.service.conftest import Keys, World, assert_problem

GOOD_SCHOOL = {"region": "江苏", "environment": "blended", "chosen_points": ["A1"]}
GOOD_TEACHER = {"school_id": "S000001", "stage": "小学", "subject": "数学"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        (
            "PUT",
            "/v1/schools/S123",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            422,
        ),
        (
            "PUT",
            "/v1/schools/S123",
            {"content": "环境".encode("gb18030"), "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ("PUT", "/v1/schools/S123", {"json": []}, 422),
        ("PUT", "/v1/schools/S123", {"json": None}, 422),
        ("PUT", "/v1/schools/S123", {"json": {**GOOD_SCHOOL, "environment": "vr"}}, 422),
        ("PUT", "/v1/schools/S123", {"json": {**GOOD_SCHOOL, "chosen_points": ["Z9"]}}, 422),
        ("PUT", "/v1/schools/S123", {"json": {**GOOD_SCHOOL, "chosen_points": ["A1", "A1"]}}, 422),
        ("PUT", "/v1/schools/S123", {"json": {**GOOD_SCHOOL, "rollout_batch": 9}}, 422),
        ("PUT", "/v1/schools/S123", {"json": {**GOOD_SCHOOL, "principal_name": "王"}}, 422),
        ("PUT", "/v1/schools/bad%20id", {"json": GOOD_SCHOOL}, 422),
        ("PUT", "/v1/schools/" + "S" * 40, {"json": GOOD_SCHOOL}, 422),
        ("PUT", "/v1/teachers/T1", {"json": {**GOOD_TEACHER, "name": "张三"}}, 422),
        ("PUT", "/v1/teachers/T1", {"json": {**GOOD_TEACHER, "stage": "大学"}}, 422),
        ("PUT", "/v1/teachers/T1", {"json": {**GOOD_TEACHER, "years_of_service": -1}}, 422),
        ("PUT", "/v1/teachers/T1", {"json": {**GOOD_TEACHER, "years_of_service": "many"}}, 422),
        ("PUT", "/v1/teachers/T1", {"json": {**GOOD_TEACHER, "school_id": "S404404"}}, 404),
        ("PUT", "/v1/teachers/T1", {"json": {"school_id": "S000001"}}, 422),
        ("POST", "/v1/events", {"json": {"events": []}}, 422),
        ("POST", "/v1/events", {"json": {"events": "x"}}, 422),
        ("POST", "/v1/events", {"json": {"events": [1, "a", None]}}, 422),
        (
            "POST",
            "/v1/events",
            {
                "json": {
                    "events": [
                        {
                            "event_id": "e",
                            "teacher_id": "T0000001",
                            "event": "fly",
                            "timestamp": "2024-01-01T00:00:00Z",
                        }
                    ]
                }
            },
            422,
        ),
        (
            "POST",
            "/v1/events",
            {
                "json": {
                    "events": [
                        {
                            "event_id": "e" * 200,
                            "teacher_id": "T0000001",
                            "event": "enrol",
                            "item_id": "CRS-0001",
                            "timestamp": "2024-01-01T00:00:00Z",
                        }
                    ]
                }
            },
            422,
        ),
        (
            "POST",
            "/v1/events",
            {
                "json": {
                    "events": [
                        {
                            "event_id": "e1",
                            "teacher_id": "T0000001",
                            "event": "enrol",
                            "item_id": "CRS-9999",
                            "timestamp": "2024-01-01T00:00:00Z",
                        }
                    ]
                }
            },
            422,
        ),
        (
            "POST",
            "/v1/events",
            {
                "json": {
                    "events": [
                        {
                            "event_id": "e1",
                            "teacher_id": "T0000001",
                            "event": "rate",
                            "item_id": "CRS-0001",
                            "value": "NaN",
                            "timestamp": "2024-01-01T00:00:00Z",
                        }
                    ]
                }
            },
            422,
        ),
        (
            "POST",
            "/v1/events",
            {
                "json": {
                    "events": [
                        {
                            "event_id": "e1",
                            "teacher_id": "T0000001",
                            "event": "enrol",
                            "item_id": "CRS-0001",
                            "timestamp": "yesterday",
                        }
                    ]
                }
            },
            422,
        ),
        ("GET", "/v1/teachers?limit=0", {}, 422),
        ("GET", "/v1/teachers?limit=501", {}, 422),
        ("GET", "/v1/teachers?limit=abc", {}, 422),
        ("GET", "/v1/teachers?cursor=%%%", {}, 400),
        ("GET", "/v1/competencies/Z%2F..", {}, 404),
        ("GET", "/v1/competencies/Z9", {}, 404),
        ("GET", "/v1/policies/atlantis", {}, 404),
        ("GET", "/v1/policies/..%2Fetc", {}, 404),
        ("GET", "/v1/policies/Jiang%20Su", {}, 422),
        ("GET", "/v1/nothing-here", {}, 404),
        ("PATCH", "/v1/teachers/T0000001", {}, 405),  # DELETE is erasure (usecases/test_erasure.py)
        ("DELETE", "/v1/teachers/T0000001", {}, 403),  # a platform key never erases
        ("POST", "/v1/admin/reload", {}, 403),
    ],
)
def test_malformed_input_is_a_problem(
    client,
    keys: Keys,
    world: World,
    method: str,
    path: str,  # type: ignore[no-untyped-def]
    kwargs: dict,
    status: int,
) -> None:
    extra = dict(kwargs)
    headers = {**keys.header("platform"), **extra.pop("headers", {})}
    response = client.request(method, path, headers=headers, **extra)
    assert_problem(response, status)


def test_validation_problem_names_the_field(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.put(
        "/v1/teachers/T1", json={**GOOD_TEACHER, "stage": "大学"}, headers=keys.header("platform")
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["location"] == ["body", "stage"]
    assert "stage" in body["detail"]


def test_oversized_body_is_413(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    limit = client.app.state.nengli.settings.max_body_bytes
    response = client.post(
        "/v1/events",
        content=b"x" * (limit + 1),
        headers={**keys.header("platform"), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert body["max_bytes"] == limit


def test_oversized_chunked_body_is_413(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    limit = client.app.state.nengli.settings.max_body_bytes

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = client.post(
        "/v1/events",
        content=chunks(),
        headers={**keys.header("platform"), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)
