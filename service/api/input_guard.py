"""Refuse control characters in the URL before any route sees them (400 problem+json).

No identifier, region, policy name or cursor of nengli contains a control character, and NUL
in particular cannot be stored by PostgreSQL (``psycopg.DataError``) while SQLite stores it as
an id no one can type again. Checking the decoded path and every query parameter once, at the
door, keeps each route free of that concern; request bodies are checked by the schemas
(:class:`service.api.schemas.common.StrictModel`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from service.api.problems import Receive, Scope, Send, problem_response

__all__ = ["CONTROL_CHARACTERS", "ControlCharacterGuard", "first_control_character"]

#: C0 controls and DEL: never part of a URL component nengli accepts.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def first_control_character(value: str) -> str | None:
    """``U+XXXX`` of the first control character in ``value``, or ``None``."""
    match = CONTROL_CHARACTERS.search(value)
    return f"U+{ord(match.group()):04X}" if match else None


class ControlCharacterGuard:
    """ASGI middleware: a path or query parameter with a control character is a 400."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self._problem(scope)
            if problem is not None:
                await problem(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _problem(scope: Scope) -> Any:
        path = str(scope.get("path", ""))
        code = first_control_character(path)
        if code is not None:
            return problem_response(
                400,
                "bad-request",
                f"the path contains the control character {code}; identifiers and region "
                "names never contain control characters — remove it (was %00 sent?)",
                instance=CONTROL_CHARACTERS.sub("\ufffd", path),
                field="path",
            )
        query = scope.get("query_string", b"").decode("utf-8", errors="replace")
        for name, value in parse_qsl(query, keep_blank_values=True):
            code = first_control_character(name) or first_control_character(value)
            if code is not None:
                field = CONTROL_CHARACTERS.sub("\ufffd", name)
                return problem_response(
                    400,
                    "bad-request",
                    f"query parameter {field!r} contains the control character {code}; remove it",
                    instance=CONTROL_CHARACTERS.sub("\ufffd", path),
                    field=field,
                )
        return None
