"""Per request: an id (``X-Request-ID`` echoed or generated), metrics and the access log.

A pure ASGI middleware, outermost, so that every answer — a 429 of the rate limit or a 413 of
the body limit included — carries the id and is counted. The route is the path *template*
(``/v1/teachers/{teacher_id}``), never the path: metrics stay a few dozen series and the access
log names no teacher.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.observability.metrics import REQUEST_SECONDS, REQUESTS

__all__ = ["REQUEST_ID_HEADER", "RequestContext"]

REQUEST_ID_HEADER = "x-request-id"
#: What a caller's id may look like; anything else is replaced (log injection, cardinality).
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
access_log = logging.getLogger("nengli.access")


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "unmatched"  # 404s of unknown paths: one series, not one per probe


class RequestContext:
    """Bind ``request_id`` for the request's log lines, answer it, count and time the request."""

    def __init__(self, app: ASGIApp, *, access_log_enabled: bool = False) -> None:
        self.app = app
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode())
        text = given.decode("latin-1") if given else ""
        rid = text if _VALID_ID.match(text) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        status: dict[str, Any] = {"code": 500}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=rid):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route, method = _route_of(scope), scope.get("method", "")
                REQUESTS.labels(method, route, str(status["code"])).inc()
                REQUEST_SECONDS.labels(method, route).observe(elapsed)
                if self.access_log_enabled:
                    access_log.info(
                        "request",
                        extra={
                            "method": method,
                            "route": route,
                            "status": status["code"],
                            "ms": round(elapsed * 1000, 2),
                        },
                    )
