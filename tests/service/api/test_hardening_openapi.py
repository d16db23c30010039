"""The OpenAPI declares every status an operation returns, with the problem schema (row 12)."""

from __future__ import annotations

import pytest

from tests.service.conftest import Keys, assert_problem

PROBLEM_REF = "#/components/schemas/Problem"


def _operations(client) -> list[tuple[str, str, dict]]:
    spec = client.get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


def _declares(operation: dict, status: int) -> bool:
    entry = operation["responses"].get(str(status))
    if entry is None:
        return False
    return entry["content"]["application/problem+json"]["schema"]["$ref"] == PROBLEM_REF


def test_every_operation_declares_shared_errors_as_problems(client) -> None:
    operations = _operations(client)
    assert len(operations) >= 30
    for method, path, operation in operations:
        expected = {400, 405, 500, 503}
        if operation.get("security"):
            expected |= {401, 403, 404, 422, 429}
        if operation.get("requestBody"):
            expected |= {409, 413}
        missing = sorted(s for s in expected if not _declares(operation, s))
        assert missing == [], f"{method.upper()} {path} does not declare {missing}"


def test_problem_schema_is_a_component(client) -> None:
    spec = client.get("/openapi.json").json()
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path", "template", "kwargs", "status"),
    [
        ("get", "/v1/schools", "/v1/schools", {}, 401),
        ("get", "/v1/teachers/T0000001", "/v1/teachers/{teacher_id}", {}, 401),
        ("get", "/v1/teachers?cursor=AA", "/v1/teachers", {"auth": True}, 400),
        ("get", "/v1/schools/S000404", "/v1/schools/{school_id}", {"auth": True}, 404),
        ("post", "/v1/events", "/v1/events", {"auth": True, "big": True}, 413),
        ("post", "/v1/admin/reload", "/v1/admin/reload", {"auth": True}, 403),
    ],
)
def test_statuses_seen_are_declared(
    client, keys: Keys, world, method: str, path: str, template: str, kwargs: dict, status: int
) -> None:
    headers = keys.header("platform") if kwargs.get("auth") else {}
    body = {"content": b"x" * 2_100_000} if kwargs.get("big") else {}

    response = client.request(method.upper(), path, headers=headers, **body)

    assert_problem(response, status)
    operation = client.get("/openapi.json").json()["paths"][template][method]
    assert _declares(operation, status)
