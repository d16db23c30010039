"""Shapes shared by several resources: identifiers, pages and cursors."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from competency_model.errors import NengliError

T = TypeVar("T")

#: Identifiers are opaque ASCII tokens (``S000001``, ``T0000001``); this keeps them safe in
#: URLs, logs and cursors.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$"
SchoolId = Annotated[str, Field(pattern=ID_PATTERN, examples=["S000001"])]
TeacherId = Annotated[str, Field(pattern=ID_PATTERN, examples=["T0000001"])]
MAX_PAGE = 500


class StrictModel(BaseModel):
    """Request bodies reject unknown fields, so personal data cannot slip in by accident."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    data: list[T]
    count: int = Field(description="Number of items on this page.")
    next_cursor: str | None = Field(default=None, description="Null on the last page.")


LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size (at most 500).")]
CursorQuery = Annotated[
    str | None, Query(max_length=200, description="Opaque cursor from a previous page.")
]


def encode_cursor(last_key: str) -> str:
    """Opaque cursor for keyset pagination (the last key of the page)."""
    return base64.urlsafe_b64encode(last_key.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """Inverse of :func:`encode_cursor`; a malformed cursor is a 400 naming the fix."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise NengliError(
            f"cursor {cursor[:40]!r} is not valid; pass the next_cursor of the previous page"
        ) from None
