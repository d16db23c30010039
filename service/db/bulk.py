"""Bulk writes that stay correct when identical imports run at the same time.

Two imports of one file race: both see a row as new, both insert it, and the second meets the
unique key (``IntegrityError``, a 500) — or, for a table without a unique key, the row is stored
twice. Every table now has a natural unique key (migration 0004), and new rows are written with
``INSERT … ON CONFLICT DO NOTHING``: the loser of a race skips the row the winner wrote, on
SQLite and PostgreSQL alike.

On PostgreSQL, large event tables go through :func:`copy_into_staging`: ``COPY`` into a
temporary table, then one set-based ``INSERT … SELECT … ON CONFLICT DO NOTHING``. The row-by-row
duplicate check it replaces issued one ``IN (…)`` query per 500 ids against a table whose
statistics are stale within the importing transaction, so PostgreSQL scanned it every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import FromClause, bindparam, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = [
    "copy_into_staging",
    "copy_text_into_staging",
    "insert_new_rows",
    "is_postgresql",
    "update_rows",
    "upsert_rows",
]

#: Rows per INSERT statement (both backends bind them as one multi-row VALUES).
INSERT_CHUNK = 2000


def is_postgresql(session: Session) -> bool:
    """True when ``session`` talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_new_rows(
    session: Session, table: FromClause, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert ``rows`` into ``table``, skipping any whose ``keys`` are already stored.

    Returns the number of rows actually inserted (a row another transaction inserted first is
    not counted).
    """
    if not rows:
        return 0
    if is_postgresql(session) and len(rows) > INSERT_CHUNK:
        return _copy_and_merge(session, table, rows, keys)
    dialect = postgresql if is_postgresql(session) else sqlite
    inserted = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = list(rows[start : start + INSERT_CHUNK])
        statement = (
            dialect.insert(table)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=keys)
            # RETURNING counts the rows written on both backends (psycopg reports no rowcount).
            .returning(table.c[keys[0]])
        )
        inserted += len(session.execute(statement).all())
    return inserted


def _copy_into_copy_of(
    session: Session,
    table: FromClause,
    name: str,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
) -> str:
    """PostgreSQL: ``COPY`` ``rows`` into a new temporary table ``name`` shaped like ``table``'s
    ``columns`` (dropped at commit); returns the quoted column list for the statement after."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
            f"SELECT {quoted} FROM {table.name} WITH NO DATA"  # type: ignore[attr-defined]
        )
    )
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([row[c] for c in columns])
    return quoted


def _copy_and_merge(
    session: Session, table: FromClause, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """PostgreSQL: ``COPY`` the rows into a staging copy of ``table``, then one merge.

    Compiling thousands of multi-row ``VALUES`` statements cost more than the writing (a
    253,939-answer import took minutes); ``COPY`` streams the rows in one round trip.
    """
    columns = list(rows[0])
    name = f"{table.name}_staging"  # type: ignore[attr-defined]
    quoted = _copy_into_copy_of(session, table, name, columns, rows)
    conflict = ", ".join(f'"{k}"' for k in keys)
    # Counted in the server: fetching ``RETURNING 1`` held a result row per staged row here.
    merged = session.execute(
        text(
            f"WITH merged AS (INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM {name} "  # type: ignore[attr-defined]
            f"ON CONFLICT ({conflict}) DO NOTHING RETURNING 1) SELECT count(*) FROM merged"
        )
    )
    inserted = int(merged.scalar_one())
    session.execute(text(f"DROP TABLE {name}"))
    return inserted


def copy_into_staging(
    session: Session, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
) -> int:
    """``COPY`` ``rows`` into a new temporary table ``name`` (dropped at commit); PostgreSQL only.

    Parameters
    ----------
    columns
        ``(column, SQL type)`` pairs, in the order of each row's values.
    """
    spec = ", ".join(f"{column} {kind}" for column, kind in columns)
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {name} ({spec}) ON COMMIT DROP"))
    raw = session.connection().connection.driver_connection
    names = ", ".join(column for column, _ in columns)
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)
            count += 1
    session.execute(text(f"ANALYZE {name}"))
    return count


def upsert_rows(
    session: Session, table: FromClause, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows`` into ``table``, replacing the other columns of a row whose ``keys`` are
    stored (``INSERT … ON CONFLICT DO UPDATE``).

    For derived rows that two requests may compute at once (a school's stored mastery and
    pairing summary after a change): a delete-then-insert lets the second writer meet the first
    one's uncommitted key and fail with a 500; here it overwrites it with rows of the same
    content.
    """
    if not rows:
        return
    dialect = postgresql if is_postgresql(session) else sqlite
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = dialect.insert(table).values(list(rows[start : start + INSERT_CHUNK]))
        others = [c for c in rows[0] if c not in keys]
        session.execute(
            statement.on_conflict_do_update(
                index_elements=keys, set_={c: statement.excluded[c] for c in others}
            )
        )


def copy_text_into_staging(
    session: Session, name: str, columns: Sequence[tuple[str, str]], blocks: Iterable[str]
) -> int:
    """Like :func:`copy_into_staging`, but from blocks of ready ``COPY`` text (one row a line).

    A caller that formats whole columns at once hands over one string per slice: psycopg then
    converts no Python values, which at tens of millions of rows is most of the client's time.
    Returns the number of rows staged.
    """
    spec = ", ".join(f"{column} {kind}" for column, kind in columns)
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {name} ({spec}) ON COMMIT DROP"))
    raw = session.connection().connection.driver_connection
    names = ", ".join(column for column, _ in columns)
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for block in blocks:
            copy.write(block)
            count += block.count("\n")
    session.execute(text(f"ANALYZE {name}"))
    return count


def update_rows(
    session: Session,
    entity: type[Any],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    *,
    compare: Sequence[str] = (),
) -> None:
    """Set the non-key columns of the stored ``entity`` rows matching each row's ``keys``.

    ``keys`` are the mapped class's primary key, which every row carries (the ORM's bulk
    update by primary key is the small-batch and SQLite path).

    On PostgreSQL a large update is one ``COPY`` into a staging table and one ``UPDATE … FROM``:
    the per-row ``UPDATE`` it replaces cost a round trip and a run of the table's statement
    triggers (mastery marks, migration 0009) for every row — 400,000 of them on a re-import of
    20,000 teachers' questionnaires. Where a key repeats, the last row wins, as it did when the
    rows were applied one by one.

    ``compare`` names columns that tell a changed row from an unchanged one: a stored row whose
    ``compare`` columns already hold the row's values is not written at all (its other columns,
    such as an import's clock, keep their stored values, and no ``UPDATE`` trigger marks it).
    A re-import of a province re-asserts every teacher; writing them all cost an ORM
    executemany of ~2 KB a teacher in the importing process (peak RSS 262 → 544 MiB over a
    100,000-teacher re-import) and marked every school's aggregates stale.
    """
    if not rows:
        return
    if not (is_postgresql(session) and len(rows) > INSERT_CHUNK):
        if compare:
            _update_changed(session, entity.__table__, rows, keys, compare)
        else:
            session.execute(update(entity), list(rows))
        return
    table = entity.__table__
    last = {tuple(row[k] for k in keys): row for row in rows}
    columns = list(rows[0])
    name = f"{table.name}_update"  # type: ignore[attr-defined]
    _copy_into_copy_of(session, table, name, columns, last.values())
    assignments = ", ".join(f'"{c}" = s."{c}"' for c in columns if c not in keys)
    matches = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
    if compare:
        changed = " OR ".join(f't."{c}" IS DISTINCT FROM s."{c}"' for c in compare)
        matches = f"{matches} AND ({changed})"
    session.execute(
        text(
            f"UPDATE {table.name} t SET {assignments} FROM {name} s WHERE {matches}"  # type: ignore[attr-defined]
        )
    )
    session.execute(text(f"DROP TABLE {name}"))


def _update_changed(
    session: Session,
    table: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    compare: Sequence[str],
) -> None:
    """:func:`update_rows` with ``compare`` on SQLite or a small batch: one Core executemany per
    :data:`INSERT_CHUNK` rows, whose ``WHERE`` skips the rows that would not change (null-safe,
    ``IS DISTINCT FROM`` / SQLite's ``IS NOT``)."""
    columns = list(rows[0])

    def bind(prefix: str, name: str) -> Any:
        return bindparam(f"{prefix}_{name}", type_=table.c[name].type)

    statement = (
        update(table)
        .where(
            *(table.c[k] == bind("key", k) for k in keys),
            or_(*(table.c[c].is_distinct_from(bind("old", c)) for c in compare)),
        )
        .values({c: bind("new", c) for c in columns if c not in keys})
    )
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(
            statement,
            [
                {f"key_{k}": row[k] for k in keys}
                | {f"old_{c}": row[c] for c in compare}
                | {f"new_{c}": row[c] for c in columns if c not in keys}
                for row in rows[start : start + INSERT_CHUNK]
            ],
        )
