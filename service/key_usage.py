"""When each API key was last used, written at most once a minute per key (not on every request).

A platform calls the service thousands of times a minute with one key; writing ``last_used_at``
on each call would put a database write (and, on SQLite, the write lock) on the hot path that
the key cache exists to keep query-free. :class:`KeyUsage` remembers the latest use of every key
in memory and lets exactly one request per key and interval write it:

* :meth:`KeyUsage.claim` records a use and answers the time to write when this call is the one
  that should write (its key was not written in the last ``interval_seconds``), else ``None``;
  the decision is made under a lock, so concurrent requests of one key never both write.
* :func:`write_last_used` is one conditional ``UPDATE … WHERE last_used_at IS NULL OR
  last_used_at < :at``, so several workers (processes) writing the same key never move the time
  backwards, whatever order their writes land in.
* :meth:`KeyUsage.flush` writes the uses seen since each key's last write (app shutdown), so a
  key used once and then idle is not left a minute behind forever.

``last_used_at`` is therefore accurate to ``interval_seconds`` while the service runs.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.db.models import ApiKey

__all__ = ["KeyUsage", "write_last_used"]

_log = logging.getLogger(__name__)


def write_last_used(session: Session, key_id: str, at: datetime) -> bool:
    """Set ``last_used_at`` of ``key_id`` to ``at`` unless a later time is already stored.

    Commits. Returns whether the row changed (False: unknown key or a later time stored).
    """
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.key_id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < at))
        .values(last_used_at=at)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


class KeyUsage:
    """The latest use of each key in this process, and whose turn it is to write it.

    Parameters
    ----------
    interval_seconds
        A key's ``last_used_at`` is written at most once per this many seconds (per process).
    """

    def __init__(self, interval_seconds: float = 60.0) -> None:
        self.interval_seconds = interval_seconds
        # Latest use of each key (epoch seconds: a float is cheaper to take on every request
        # than a datetime), and the monotonic time and value of each key's last write.
        self._seen: dict[str, float] = {}
        self._written: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def claim(self, key_id: str) -> datetime | None:
        """Record a use of ``key_id`` now; the time to write if this call must write it."""
        at = time.time()
        now = time.monotonic()
        with self._lock:
            self._seen[key_id] = at
            last = self._written.get(key_id)
            if last is not None and now - last[0] < self.interval_seconds:
                return None
            # Claimed before the write happens: a concurrent request of the same key sees it.
            self._written[key_id] = (now, at)
        return datetime.fromtimestamp(at, UTC)

    def release(self, key_id: str) -> None:
        """Give a failed write's turn back, so the next use of the key tries again."""
        with self._lock:
            self._written.pop(key_id, None)

    def pending(self) -> dict[str, datetime]:
        """Uses newer than what was written for their key (what :meth:`flush` would write)."""
        return {key_id: datetime.fromtimestamp(at, UTC) for key_id, at in self._pending().items()}

    def _pending(self) -> dict[str, float]:
        with self._lock:
            return {
                key_id: at
                for key_id, at in self._seen.items()
                if key_id not in self._written or self._written[key_id][1] < at
            }

    def write(self, session: Session, key_id: str, at: datetime) -> bool:
        """:func:`write_last_used` for a claimed use; a failed write never fails the request.

        The key was verified already: losing one last-used stamp (the database busy or read
        only) is worth a warning, not a 500, and the turn is released to retry on the next use.
        """
        try:
            write_last_used(session, key_id, at)
        except SQLAlchemyError as error:
            session.rollback()
            self.release(key_id)
            _log.warning("last_used_at of key %s not written: %s", key_id, error)
            return False
        return True

    def flush(self, engine: Engine) -> int:
        """Write every pending use (called when the app stops); returns how many were written."""
        pending = self._pending()
        if not pending:
            return 0
        with Session(engine) as session:
            written = {
                key_id: at
                for key_id, at in pending.items()
                if self.write(session, key_id, datetime.fromtimestamp(at, UTC))
            }
        now = time.monotonic()
        with self._lock:
            for key_id, at in written.items():
                self._written[key_id] = (now, at)
        return len(written)
