"""Shapes shared by several resources: identifiers, pages and cursors."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from competency_model.errors import NengliError

T = TypeVar("T")

#: Identifiers are opaque ASCII tokens (``S000001``, ``T0000001``); this keeps them safe in
#: URLs, logs and cursors.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$"
SchoolId = Annotated[str, Field(pattern=ID_PATTERN, examples=["S000001"])]
TeacherId = Annotated[str, Field(pattern=ID_PATTERN, examples=["T0000001"])]
MAX_PAGE = 500
#: Control characters refused in request bodies (tab, LF and CR stay allowed in free text):
#: NUL cannot be stored by PostgreSQL and the others make XLSX exports fail.
BODY_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _first_control_character(value: Any, where: str) -> str | None:
    """``"<field>: ..."`` for the first string under ``value`` holding a control character."""
    if isinstance(value, str):
        match = BODY_CONTROL_CHARACTERS.search(value)
        if match:
            return f"{where or 'body'} contains the control character U+{ord(match.group()):04X}"
        return None
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list | tuple):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        found = _first_control_character(child, f"{where}.{key}" if where else str(key))
        if found is None and isinstance(key, str):
            found = _first_control_character(key, where or "body")
        if found is not None:
            return found
    return None


class StrictModel(BaseModel):
    """Request bodies reject unknown fields, so personal data cannot slip in by accident.

    They also refuse control characters anywhere in the raw input (nested items included),
    naming the field, before any field is parsed.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        found = _first_control_character(data, "")
        if found is not None:
            raise ValueError(f"{found}; remove it (control characters are never accepted)")
        return data


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
        decoded = raw.decode("utf-8")
        if BODY_CONTROL_CHARACTERS.search(decoded) or "\t" in decoded or "\n" in decoded:
            raise ValueError("a cursor never holds control characters")
        return decoded
    except (binascii.Error, UnicodeError, ValueError):
        raise NengliError(
            f"cursor {cursor[:40]!r} is not valid; pass the next_cursor of the previous page"
        ) from None
