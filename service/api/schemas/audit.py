"""Schemas of the read-audit export."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["AuditEntryPublic"]


class AuditEntryPublic(BaseModel):
    """One audited read: who (key id, role) read what (action, teacher, school) and when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    key_id: str
    role: str
    action: str
    teacher_id: str | None
    school_id: str | None
    detail: str | None
