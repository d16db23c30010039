"""Every error the API returns, as RFC 9457 ``application/problem+json``, decided in one place.

``NengliError`` subclasses carry their own status and slug (``competency_model/errors.py``);
request validation errors become 422 with the offending fields listed; routing errors (404, 405)
and the body-size limit (413) use the same document shape. Anything unexpected becomes a bare
500 problem with a correlation id: the traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from competency_model.errors import NengliError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "BodySizeLimit",
    "install_problem_handlers",
    "problem_response",
    "unexpected_error",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://nengli.invalid/problems/"
log = logging.getLogger("nengli.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Build a problem document; ``extensions`` become top-level members (RFC 9457 §3.2)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else slug,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Field errors without echoing large inputs back (a 20 MB body must not come back)."""
    cleaned = []
    for item in error.errors():
        entry: dict[str, Any] = {
            "location": [str(part) for part in item.get("loc", ())],
            "message": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        raw = item.get("input")
        if isinstance(raw, str | int | float | bool) and len(str(raw)) <= 200:
            entry["input"] = raw
        cleaned.append(entry)
    return cleaned


async def _nengli_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NengliError)
    headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
    return problem_response(
        error.http_status,
        error.slug,
        error.message,
        instance=request.url.path,
        headers=headers,
        **_jsonable(error.details),
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = _validation_errors(error)
    first = errors[0] if errors else {"location": [], "message": "invalid request"}
    where = ".".join(first["location"]) or "request"
    return problem_response(
        422,
        "validation-error",
        f"{where}: {first['message']}",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    slug = {
        400: "bad-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
    }.get(error.status_code, "http-error")
    detail = str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no such resource: {request.url.path}"
    if error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        error.status_code,
        slug,
        detail,
        instance=request.url.path,
        headers=dict(error.headers or {}),
    )


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    log.error("database error on %s: %s", request.url.path, error)
    return problem_response(
        503,
        "database-unavailable",
        "the database is not reachable; retry later",
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """The 500 problem for an unhandled error: a correlation id out, the traceback to the log."""
    # The request's own id (X-Request-ID), so the caller's quote finds every log line of it.
    correlation_id = str(request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex)
    log.exception("unhandled error %s on %s %s", correlation_id, request.method, request.url)
    return problem_response(
        500,
        "internal-error",
        f"an unexpected error occurred; quote {correlation_id} when reporting it",
        instance=request.url.path,
        correlation_id=correlation_id,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(NengliError, _nengli_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)


class BodySizeLimit:
    """ASGI middleware answering 413 problem+json for bodies above ``max_bytes``.

    A declared ``Content-Length`` is checked before reading; chunked bodies are counted as they
    arrive and buffered (at most ``max_bytes``) so the route never sees a truncated body.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._reject(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "payload-too-large",
            f"request body exceeds {self.max_bytes} bytes; split the upload or batch",
            instance=scope.get("path"),
            max_bytes=self.max_bytes,
        )
        await response(scope, receive, send)
