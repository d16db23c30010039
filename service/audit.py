"""Append-only audit log of reads of teacher data.

Every route that returns one teacher's data (profile, diagnosis, recommendations, path) writes
an entry before answering: :func:`record_read` inside the request's session, or, on the
recommendation hot path, :class:`AuditBatcher`, which commits the entries of concurrent requests
in one transaction (group commit) and lets each request answer only after its entry is
committed. Either way the audit entry exists whenever the data left the server. UPDATE and
DELETE on ``audit_log`` are refused by database triggers (see migration 0001).
"""

from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.auth import Principal
from service.db.async_driver import AsyncStatements
from service.db.engine import make_engine
from service.db.models import AuditEntry

__all__ = ["AuditBatcher", "audit_row", "entries_for_teacher", "record_read"]

# Built once, on the table rather than the ORM class: constructing a statement per request and
# the ORM's bulk-insert machinery each cost more than the INSERT itself.
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))


_COLUMNS = ("at", "key_id", "role", "action", "teacher_id", "school_id", "detail")
#: A whole batch as one statement (psycopg): one array per column, unnested into rows, in its
#: own transaction (autocommit), so one round trip writes and commits the batch, all or none.
_INSERT_UNNESTED = (
    f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
    "%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
)


def audit_row(
    principal: Principal,
    action: str,
    *,
    teacher_id: str | None = None,
    school_id: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """The ``audit_log`` row for one read by ``principal``, stamped now (UTC)."""
    return {
        "at": datetime.now(UTC),
        "key_id": principal.key_id,
        "role": principal.role,
        "action": action,
        "teacher_id": teacher_id,
        "school_id": school_id,
        "detail": detail,
    }


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
        audit_row(principal, action, teacher_id=teacher_id, school_id=school_id, detail=detail),
    )
    session.commit()


class AuditBatcher:
    """Group commit of audit entries for ``async`` routes.

    :meth:`append` queues the row and waits until a transaction holding it has committed. While
    one batch is being written, the rows of newer requests gather for the next one: under load
    one commit serves many requests, and at any load no request answers before its own entry is
    committed. If the write fails, every request of that batch fails with the database error and
    sends no data. PostgreSQL (psycopg) is written on the event loop through an asyncio
    connection of the batcher's own (one prepared ``INSERT … unnest`` in autocommit), so the
    loop keeps serving during the round trip and no batch waits for a thread; another server
    database is written from a worker thread. SQLite is first tried on the event loop without waiting for
    the write lock (a local append costs less than the hand-off to a thread); only when another
    process holds the lock does the batch go to a thread that waits for it, so one worker's
    write never stalls another worker's event loop.

    Rows are queued per event loop (a test may drive one app from several loops in turn).

    On SQLite the batches go through a connection of their own that never checkpoints the
    write-ahead log inside a commit (which, on a large database, held every waiting request
    for tens of milliseconds); after every :attr:`checkpoint_rows` rows a ``PASSIVE``
    checkpoint runs on another thread, which no request waits for.
    """

    checkpoint_rows = 1000

    def __init__(self, engine: Engine) -> None:
        self._main_engine = engine
        self._engine = engine
        self._no_wait_engine: Engine | None = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            url = engine.url.render_as_string(hide_password=False)
            self._engine = make_engine(url, checkpoint_on_commit=False)
            self._no_wait_engine = make_engine(url, checkpoint_on_commit=False, lock_wait_seconds=0)
        # PostgreSQL through psycopg: one asyncio connection of its own (the batches of a loop
        # are written one after the other), so no batch waits for a thread hand-off.
        self._statements = (
            AsyncStatements(engine, 1) if engine.dialect.driver == "psycopg" else None
        )
        self._rows_since_checkpoint = 0
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="nengli-wal-checkpoint")
        self._checkpoint_pending: Future[None] | None = None
        self._queues: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, list[tuple[dict[str, Any], asyncio.Future[None]]]
        ] = weakref.WeakKeyDictionary()
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]
        self._writers = weakref.WeakKeyDictionary()

    async def append(self, row: dict[str, Any]) -> None:
        """Queue ``row`` (from :func:`audit_row`) and return once it is committed."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queues.setdefault(loop, []).append((row, done))
        writer = self._writers.get(loop)
        if writer is None or writer.done():
            self._writers[loop] = loop.create_task(self._write_batches(loop))
        # A client that disconnects cancels only this wait: the row stays in the batch and is
        # written anyway (the writer skips futures already cancelled).
        await done

    async def _write_batches(self, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._queues[loop]
        while queue:
            batch = queue[:]
            del queue[:]
            rows = [row for row, _ in batch]
            try:
                await self._write(rows)
            except Exception as error:  # every waiter of the batch gets the database error
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        """One batch in one transaction; returns once it has committed."""
        if self._statements is not None:  # psycopg: the round trip awaited on the loop
            columns = [[row[name] for row in rows] for name in _COLUMNS]
            await self._statements.execute(_INSERT_UNNESTED, columns)
        elif not self._try_insert_at_once(rows):
            await asyncio.to_thread(self._insert, rows, self._engine)

    def _try_insert_at_once(self, rows: list[dict[str, Any]]) -> bool:
        """SQLite: write now if the lock is free; False (nothing written) if it is held."""
        if self._no_wait_engine is None:
            return False
        try:
            self._insert(rows, self._no_wait_engine)
        except OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return False  # rolled back: the thread writes the batch, waiting for the lock
            raise
        return True

    def _insert(self, rows: list[dict[str, Any]], engine: Engine) -> None:
        with engine.begin() as connection:
            connection.execute(_INSERT_ENTRY, rows)
        if engine is self._main_engine:
            return
        self._rows_since_checkpoint += len(rows)
        pending = self._checkpoint_pending
        if self._rows_since_checkpoint >= self.checkpoint_rows and (
            pending is None or pending.done()
        ):
            self._rows_since_checkpoint = 0
            self._checkpoint_pending = self._checkpointer.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        # PASSIVE: copy what can be copied without waiting for readers or writers.
        with self._main_engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def aclose(self) -> None:
        """:meth:`close`, closing the running loop's asyncio connection properly first."""
        if self._statements is not None:
            await self._statements.aclose()
        self.close()

    def close(self) -> None:
        """Finish a running checkpoint and release the writer's own connections."""
        self._checkpointer.shutdown(wait=True)
        if self._statements is not None:
            self._statements.close()
        if self._engine is not self._main_engine:
            self._engine.dispose()
        if self._no_wait_engine is not None:
            self._no_wait_engine.dispose()


def entries_for_teacher(session: Session, teacher_id: str) -> list[AuditEntry]:
    """All audit entries about ``teacher_id``, oldest first."""
    query = select(AuditEntry).where(AuditEntry.teacher_id == teacher_id).order_by(AuditEntry.id)
    return list(session.scalars(query))
