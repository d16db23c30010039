"""Reads of the read audit for a region administrator: filtered, region-scoped, keyset-paged.

An entry belongs to a region when it names one of the region's schools or teachers, or was
written by one of the region's platform keys. Entries about a teacher erased since keep their
school (when the read recorded it) and so stay visible to that region's administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from service.db.models import ApiKey, AuditEntry, School, Teacher

__all__ = ["AuditFilter", "audit_page"]


@dataclass(frozen=True)
class AuditFilter:
    """What an administrator asks of the audit (every field optional)."""

    region: str | None = None  # None: every region (admin keys)
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None  # key id
    teacher: str | None = None


def _query(where: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if where.region is not None:
        schools = select(School.school_id).where(School.region == where.region)
        teachers = select(Teacher.teacher_id).where(Teacher.school_id.in_(schools))
        platform_keys = select(ApiKey.key_id).where(
            ApiKey.role == "platform", ApiKey.scope == where.region
        )
        query = query.where(
            or_(
                AuditEntry.school_id.in_(schools),
                AuditEntry.teacher_id.in_(teachers),
                AuditEntry.key_id.in_(platform_keys),
            )
        )
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    if where.actor is not None:
        query = query.where(AuditEntry.key_id == where.actor)
    if where.teacher is not None:
        query = query.where(AuditEntry.teacher_id == where.teacher)
    return query


def audit_page(
    session: Session, where: AuditFilter, limit: int, after_id: int | None
) -> tuple[list[AuditEntry], bool]:
    """Up to ``limit`` entries after ``after_id``, oldest first, and whether more follow."""
    query = _query(where).order_by(AuditEntry.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(AuditEntry.id > after_id)
    rows = list(session.scalars(query))
    return rows[:limit], len(rows) > limit
