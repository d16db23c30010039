"""Retention rules per table (``NENGLI_RETENTION_*_DAYS``), applied by ``nengli retention apply``.

PIPL art. 19 keeps personal data no longer than its purpose needs; the rules say how long:
learning events, questionnaire answers and the read audit each have their own number of days
(unset: kept). A dry run counts what would go and writes nothing; a real run deletes each
table's old rows in one transaction and records the run in ``retention_runs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.db.stores.retention import count_older, delete_older
from service.settings import Settings

__all__ = ["RetentionOutcome", "apply_retention", "retention_rules"]

#: Table → the setting holding its rule, in the order they are reported.
RULES = {
    "events": "retention_events_days",
    "responses": "retention_answers_days",
    "audit_log": "retention_audit_days",
}


@dataclass(frozen=True)
class RetentionOutcome:
    """One table's rule and what it removed (or, in a dry run, would remove)."""

    table: str
    days: int | None
    horizon: datetime | None
    rows: int
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "table": self.table,
            "days": self.days,
            "horizon": self.horizon.isoformat() if self.horizon else None,
            "rows": self.rows,
            "dry_run": self.dry_run,
        }


def retention_rules(settings: Settings) -> dict[str, int | None]:
    """Days kept per table (None: no rule)."""
    return {table: getattr(settings, name) for table, name in RULES.items()}


def apply_retention(
    session: Session, settings: Settings, *, dry_run: bool, now: datetime | None = None
) -> list[RetentionOutcome]:
    """Apply every rule once; per table, one committed transaction (none in a dry run)."""
    now = now or datetime.now(UTC)
    outcomes = []
    for table, days in retention_rules(settings).items():
        if days is None:
            outcomes.append(RetentionOutcome(table, None, None, 0, dry_run))
            continue
        horizon = now - timedelta(days=days)
        if dry_run:
            rows = count_older(session, table, horizon)
            session.rollback()
        else:
            try:
                rows = delete_older(session, table, horizon)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        outcomes.append(RetentionOutcome(table, days, horizon, rows, dry_run))
    return outcomes
