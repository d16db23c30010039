"""Declare in ``/openapi.json`` every error status each operation can return (problem+json).

FastAPI declares only what a route names itself (usually 200 and its 422). The errors of
nengli come from a few shared places — the URL guard (400), the key dependency (401/403), the
rate limit (429), tenancy checks (404), the body-size limit (413), conflicts (409), the problem
handlers (500) and an unreachable database or missing model (503) — so they are added here,
once, to every operation they can reach, all with one ``Problem`` schema (RFC 9457). A client
generator then knows every status it must handle, and schemathesis' status-code conformance
check holds the service to this list.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.api.problems import PROBLEM_MEDIA_TYPE

__all__ = ["PROBLEM_SCHEMA", "install_error_responses"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; extension members name the offending field.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}
_DESCRIPTIONS = {
    400: "Bad request: a control character in the URL, a malformed cursor or parameter.",
    401: "Missing, unknown, expired, revoked or rotated-out API key (`reason` says which).",
    403: "The key's role may not use this operation.",
    404: "Not found, or outside the key's scope (the two are indistinguishable).",
    405: "Method not allowed on this path.",
    409: "Conflicts with stored state (e.g. an event id reused with other content).",
    413: "Request body larger than the configured limit.",
    422: "Invalid request: the problem names each offending field.",
    429: "Too many requests for this key; retry after the Retry-After seconds.",
    500: "Unexpected error; quote the correlation_id when reporting it.",
    503: "Database unreachable or no model loaded; retry later.",
}
_WRITES = {"post", "put", "patch", "delete"}


def _statuses(method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 405, 500, 503]
    if operation.get("security"):
        statuses += [401, 403, 404, 422, 429]
    elif operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if method in _WRITES:
        statuses.append(409)
    if operation.get("requestBody"):
        statuses.append(413)
    return sorted(set(statuses))


def _with_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(method, operation):
                entry = responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
                entry["content"] = {PROBLEM_MEDIA_TYPE: {"schema": reference}}
                if status in (429, 503):
                    entry["headers"] = {
                        "Retry-After": {
                            "description": "Seconds to wait before retrying.",
                            "schema": {"type": "integer"},
                        }
                    }
    # FastAPI's validation error shape is never sent (422s are problems too).
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


def install_error_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the shared error responses (computed once, cached)."""

    original = app.openapi  # FastAPI's own builder, which caches its result on the app

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = original()
        return _with_errors(schema) if fresh else schema

    app.openapi = openapi  # type: ignore[method-assign]
