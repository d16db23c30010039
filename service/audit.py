"""Append-only audit log of reads of teacher data.

Every route that returns one teacher's data (profile, diagnosis, recommendations, path) calls
:func:`record_read`. The row is added to the request's session and committed with it, so the
audit entry exists whenever the data left the server. UPDATE and DELETE on ``audit_log`` are
refused by database triggers (see migration 0001).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.db.models import AuditEntry

__all__ = ["entries_for_teacher", "record_read"]

# Built once, on the table rather than the ORM class: constructing a statement per request and
# the ORM's bulk-insert machinery each cost more than the INSERT itself.
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))


def record_read(
    session: Session,
    principal: Principal,
    action: str,
    *,
    teacher_id: str | None = None,
    school_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one audit entry and commit it with the request's reads (one transaction).

    A Core ``INSERT`` rather than ``session.add``: the row is never read back, so the ORM's
    unit of work (identity map, flush ordering) would only add cost on every audited read.
    On SQLite the reads before it ran outside a transaction (pysqlite begins one at the first
    write), so the write lock is held only for this INSERT and its commit.
    """
    session.execute(
        _INSERT_ENTRY,
        {
            "at": datetime.now(UTC),
            "key_id": principal.key_id,
            "role": principal.role,
            "action": action,
            "teacher_id": teacher_id,
            "school_id": school_id,
            "detail": detail,
        },
    )
    session.commit()


def entries_for_teacher(session: Session, teacher_id: str) -> list[AuditEntry]:
    """All audit entries about ``teacher_id``, oldest first."""
    query = select(AuditEntry).where(AuditEntry.teacher_id == teacher_id).order_by(AuditEntry.id)
    return list(session.scalars(query))
