"""Schemas of PIPL operations: an erasure's answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["ErasurePublic"]


class ErasurePublic(BaseModel):
    """What ``DELETE /v1/teachers/{id}`` removed; the tombstone keeps who, whom and when."""

    teacher_id: str
    erased_at: datetime
    rows_deleted: dict[str, int] = Field(description="Rows deleted per table.")
