"""Counting and deleting rows older than a horizon, per table under a retention rule.

The audit log refuses DELETE (database trigger) except for rows older than the latest audit
horizon in ``retention_runs`` (migration 0004), so :func:`delete_older` records the run first,
in the same transaction: a run that fails leaves neither the record nor a deleted row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.db.models import AuditEntry, Event, Response, RetentionRun

__all__ = ["RETAINED", "count_older", "delete_older"]

#: Table under a rule → the column that dates its rows.
RETAINED: dict[str, Any] = {
    "events": Event.timestamp,
    "responses": Response.answered_at,
    "audit_log": AuditEntry.at,
}


def count_older(session: Session, table: str, horizon: datetime) -> int:
    """Rows of ``table`` dated before ``horizon``."""
    column = RETAINED[table]
    return int(session.scalar(select(func.count()).where(column < horizon)) or 0)


def delete_older(session: Session, table: str, horizon: datetime) -> int:
    """Delete the rows of ``table`` dated before ``horizon`` and record the run (no commit)."""
    column = RETAINED[table]
    run = RetentionRun(table_name=table, horizon=horizon, deleted=0, applied_at=datetime.now(UTC))
    session.add(run)
    session.flush()  # the audit trigger reads the horizon
    deleted = int(session.execute(delete(column.class_).where(column < horizon)).rowcount or 0)  # type: ignore[attr-defined]
    run.deleted = deleted
    session.flush()
    return deleted
