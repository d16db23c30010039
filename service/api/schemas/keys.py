"""Schemas of the API key lifecycle (``/v1/admin/keys``): never a secret, except once on issue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from service.api.schemas.common import ID_PATTERN, StrictModel

__all__ = ["KeyCreate", "KeyIssued", "KeyPublic", "KeyRotate", "KeysPublic"]

_DURATION = r"^\s*(\d+\s*[smhdwSMHDW]\s*)+$"


class KeyCreate(StrictModel):
    """A new key: its role, the scope the role is bound to, and an optional expiry."""

    role: Literal["admin", "platform", "school", "teacher"]
    scope: str | None = Field(
        None,
        max_length=64,
        description="Region (platform), school_id (school) or teacher_id (teacher); none for admin.",
        examples=["江苏"],
    )
    label: str | None = Field(None, max_length=128, description="Free text to recognise the key.")
    expires_at: AwareDatetime | None = Field(None, description="When the key stops working.")
    expires_in: str | None = Field(
        None,
        pattern=_DURATION,
        description="Lifetime from now instead of expires_at: 90d, 24h, 1d12h, 30m, 2w.",
        examples=["90d"],
    )


class KeyRotate(StrictModel):
    """How long the previous secret keeps working after the rotation (default: not at all)."""

    grace: str | None = Field(None, pattern=_DURATION, examples=["24h"])


class KeyPublic(BaseModel):
    """Everything about a key but its secret."""

    key_id: str = Field(pattern=ID_PATTERN)
    label: str | None
    role: str
    scope: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="Written at most once a minute per key and worker, so up to a minute behind."
    )
    revoked_at: datetime | None
    rotated_at: datetime | None
    previous_valid_until: datetime | None = Field(
        description="Until when the secret before the last rotation is still accepted."
    )
    created_by: str | None = Field(description="Admin key that created it over HTTP.")
    status: Literal["active", "expired", "revoked"]


class KeysPublic(BaseModel):
    """Every key, oldest first."""

    data: list[KeyPublic]
    count: int


class KeyIssued(BaseModel):
    """A created or rotated key and its token, shown this once: store it now."""

    key: KeyPublic
    token: str = Field(description="`Authorization: Bearer <token>`; not recoverable later.")
