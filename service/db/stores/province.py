"""Write province tables (from an import or a simulation) into the database, idempotently.

Natural keys decide insert versus update: schools by ``school_id``, teachers by ``teacher_id``,
responses by ``(teacher_id, item_id)``, grades by ``(teacher_id, point, assessed_at)`` and events
by ``(tenant, event_id)``, each with the teacher's region (migration 0008) — so importing the same export twice changes nothing. Each key is a
unique constraint and new rows are inserted with ``ON CONFLICT DO NOTHING``, so two identical
imports running at once store every row once and neither fails. Tenancy is
checked for every row before anything is written: a platform key can only write schools of its
region and teachers of those schools. The caller owns the transaction, so an import either lands
whole or not at all.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import column, select, table, text, update
from sqlalchemy.orm import Session

from competency_model.errors import ConflictError, DatasetError, NotFoundError
from competency_model.province import CORE_TABLES, TRUTH_TABLES, normalize_table, read_province
from service.auth import Principal
from service.db.bulk import copy_into_staging, insert_new_rows, is_postgresql, update_rows
from service.db.event_merge import merge_events
from service.db.models import Event, Grade, Response, School, Teacher
from service.db.partitions import ensure_region_partitions, follow_school_regions
from service.db.stores.event_rows import EventColumns, event_columns

__all__ = ["LOCAL_TIMEZONE", "PROVINCE_BATCH_ROWS", "store_province", "store_tables"]

#: Platform exports carry Beijing time without an offset (see competency_model.province).
LOCAL_TIMEZONE = "Asia/Shanghai"
CHUNK = 500
#: Events are converted and written this many rows at a time, so memory stays bounded.
EVENT_SLICE = 50_000
#: Rows of ``responses.parquet`` / ``events.parquet`` :func:`store_province` holds at once.
PROVINCE_BATCH_ROWS = 500_000
#: Tables :func:`store_province` reads ``batch_rows`` at a time from Parquet, in dependency
#: order (schools, a few per thousand teachers, are read whole). Teachers and grades were read
#: whole too: a million teachers' rows as insert dicts held over a gigabyte at once.
_BATCHED = ("teachers", "responses", "grades", "events")
#: The columns of a stored teacher an import writes, bar its clock (``updated_at``): a teacher
#: whose stored values all equal the imported ones is left alone.
_TEACHER_CONTENT = (
    "school_id",
    "region",
    "stage",
    "subject",
    "years_of_service",
    "research_group",
)
#: Temporary table of one batch's teacher ids (PostgreSQL), dropped after each lookup.
_IMPORT_TEACHERS = "import_teacher_ids"


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _utc(series: pd.Series) -> list[datetime]:
    stamps = pd.to_datetime(series)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(LOCAL_TIMEZONE)
    return [ts.to_pydatetime() for ts in stamps.dt.tz_convert(UTC)]


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _existing(session: Session, column: Any, ids: Iterable[str], *where: Any) -> set[str]:
    found: set[str] = set()
    ordered = sorted(set(ids))
    for chunk in _chunks(ordered):
        found.update(session.scalars(select(column).where(column.in_(chunk), *where)))
    return found


def _refuse_hidden(
    session: Session, column: Any, ids: list[str], inserted: int, table: str
) -> None:
    """Refuse an import whose new ids were taken outside the key's scope (nothing is imported).

    Row-level security (PostgreSQL) hides another region's rows from the lookup that split
    the rows into new and old, and ``ON CONFLICT DO NOTHING`` then skips them silently; an id
    the key still cannot see after the insert is such a row — the same "not found" as when the
    lookup saw it. (Rows skipped because a concurrent identical import wrote them are visible.)
    """
    if inserted == len(ids):
        return
    hidden = sorted(set(ids) - _existing(session, column, ids))
    if hidden:
        kind = table.rstrip("s")
        raise NotFoundError(
            f"{table}: {kind} {hidden[0]!r} not found ({len(hidden)} such ids); nothing was "
            "imported",
            details={f"{kind}_id": hidden[0]},
        )


def _store_schools(
    session: Session, principal: Principal, frame: pd.DataFrame, now: datetime
) -> tuple[int, int]:
    rows = []
    for record in frame.to_dict("records"):
        region = str(record["region"])
        school_id = str(record["school_id"])
        allowed = (
            principal.role == "admin"
            or (principal.role == "platform" and region == principal.scope)
            or (principal.role == "school" and school_id == principal.scope)
        )
        if not allowed:
            raise NotFoundError(
                f"schools: school {school_id!r} (region {region!r}) is outside this key's scope; "
                "nothing was imported",
                details={"school_id": school_id},
            )
        rows.append(
            {
                "school_id": school_id,
                "region": region,
                "city": _clean(record.get("city")),
                "district": _clean(record.get("district")),
                "urban_rural": _clean(record.get("urban_rural")),
                "environment": str(record["environment"]),
                "chosen_points": str(record.get("chosen_points") or ""),
                "rollout_batch": _clean(record.get("rollout_batch")),
                "updated_at": now,
            }
        )
    existing_rows = {
        s.school_id: s
        for chunk in _chunks(sorted({r["school_id"] for r in rows}))
        for s in session.scalars(select(School).where(School.school_id.in_(chunk)))
    }
    for row in rows:
        current = existing_rows.get(row["school_id"])
        if current is not None and not principal.can_see_school(current):
            raise NotFoundError(
                f"schools: school {row['school_id']!r} not found; nothing was imported",
                details={"school_id": row["school_id"]},
            )
        if current is not None and principal.role == "school" and current.region != row["region"]:
            raise NotFoundError(
                f"schools: school {row['school_id']!r} not found; nothing was imported"
            )
    new = [r for r in rows if r["school_id"] not in existing_rows]
    old = [r for r in rows if r["school_id"] in existing_rows]
    ensure_region_partitions(session, {r["region"] for r in rows})
    inserted = insert_new_rows(session, School.__table__, new, ["school_id"])
    _refuse_hidden(session, School.school_id, [r["school_id"] for r in new], inserted, "schools")
    if old:
        session.execute(update(School), old)
        moved = [r["school_id"] for r in old if existing_rows[r["school_id"]].region != r["region"]]
        follow_school_regions(session, moved)
    return inserted, len(old)


def _visible_school_regions(
    session: Session, principal: Principal, school_ids: set[str]
) -> dict[str, str]:
    """``{school_id: region}`` of the schools among ``school_ids`` this key may see."""
    visible: dict[str, str] = {}
    for chunk in _chunks(sorted(school_ids)):
        visible.update(
            (s.school_id, s.region)
            for s in session.scalars(select(School).where(School.school_id.in_(chunk)))
            if principal.can_see_school(s)
        )
    return visible


def _store_teachers(
    session: Session, principal: Principal, frame: pd.DataFrame, now: datetime
) -> tuple[int, int]:
    if principal.role == "teacher":
        raise NotFoundError("teachers: a teacher key cannot import teachers")
    schools = _visible_school_regions(session, principal, set(frame["school_id"].astype(str)))
    rows = []
    for record in frame.to_dict("records"):
        if str(record["school_id"]) not in schools:
            raise NotFoundError(
                f"teachers: teacher {record['teacher_id']!r} names school {record['school_id']!r}, "
                "which was not found; import its school first — nothing was imported",
                details={"school_id": str(record["school_id"])},
            )
        rows.append(
            {
                "teacher_id": str(record["teacher_id"]),
                "school_id": str(record["school_id"]),
                "region": schools[str(record["school_id"])],
                "stage": str(record["stage"]),
                "subject": str(record["subject"]),
                "years_of_service": _clean(record.get("years_of_service")),
                "research_group": _clean(record.get("research_group")),
                "updated_at": now,
            }
        )
    ids = {r["teacher_id"] for r in rows}
    existing = _existing(session, Teacher.teacher_id, ids)
    # School keys only update their own teachers; a new id is "not found" exactly like a
    # foreign one, so an import cannot tell a school which ids exist elsewhere.
    _require_visible_teachers(
        session, principal, ids if principal.role == "school" else existing, "teachers"
    )
    new = [r for r in rows if r["teacher_id"] not in existing]
    old = [r for r in rows if r["teacher_id"] in existing]
    inserted = insert_new_rows(session, Teacher.__table__, new, ["teacher_id"])
    _refuse_hidden(
        session, Teacher.teacher_id, [r["teacher_id"] for r in new], inserted, "teachers"
    )
    # Only the teachers whose stored row differs are written (a re-import re-asserts them all);
    # every re-asserted teacher still counts as updated in the report.
    update_rows(session, Teacher, old, ["teacher_id"], compare=_TEACHER_CONTENT)
    return inserted, len(old)


def _require_visible_teachers(
    session: Session, principal: Principal, ids: set[str], table: str
) -> dict[str, str]:
    """``{teacher_id: region}`` of ``ids``; :class:`NotFoundError` if any is not visible.

    Plain columns, not ORM objects, and one string object per region: an events import asks
    for every teacher of the province at once, and the map is held for the whole import.
    """
    regions: dict[str, str] = {}
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(
            select(Teacher.teacher_id, Teacher.region, School.school_id, School.region)
            .join(School, School.school_id == Teacher.school_id)
            .where(Teacher.teacher_id.in_(chunk))
        ).tuples()
        visible = {
            teacher_id: sys.intern(region)
            for teacher_id, region, school_id, school_region in rows
            if principal.can_see_teacher_at(teacher_id, school_id, school_region)
        }
        missing = sorted(set(chunk) - visible.keys())
        if missing:
            raise NotFoundError(
                f"{table}: teacher {missing[0]!r} not found ({len(missing)} unknown); import the "
                "teachers first — nothing was imported",
                details={"teacher_id": missing[0]},
            )
        regions.update(visible)
    return regions


def _rows_of_teachers(
    session: Session, columns: list[Any], teacher_ids: set[str]
) -> list[tuple[Any, ...]]:
    """``columns`` (of one table, the first its ``teacher_id``) of the rows of ``teacher_ids``.

    On PostgreSQL a batch of many teachers is one join against a staged id table: one
    ``IN (…)`` query per 500 ids ran against statistics that are stale inside the importing
    transaction, so each query could scan the whole growing table — 2,000,000 answers took 56 s
    at 100,000 teachers and over 7 minutes (stopped) for 6,000,000 at 300,000.
    """
    if is_postgresql(session) and len(teacher_ids) > CHUNK:
        copy_into_staging(
            session, _IMPORT_TEACHERS, [("teacher_id", "varchar(32)")], ((t,) for t in teacher_ids)
        )
        staged = table(_IMPORT_TEACHERS, column("teacher_id"))
        found = list(
            session.execute(
                select(*columns).join(staged, staged.c.teacher_id == columns[0])
            ).tuples()
        )
        session.execute(text(f"DROP TABLE {_IMPORT_TEACHERS}"))
        return found
    return [
        row
        for chunk in _chunks(sorted(teacher_ids))
        for row in session.execute(select(*columns).where(columns[0].in_(chunk))).tuples()
    ]


def _store_responses(
    session: Session, principal: Principal, frame: pd.DataFrame, now: datetime
) -> tuple[int, int]:
    regions = _require_visible_teachers(
        session, principal, set(frame["teacher_id"].astype(str)), "responses"
    )
    rows = [
        {
            "teacher_id": str(r["teacher_id"]),
            "region": regions[str(r["teacher_id"])],
            "item_id": str(r["item_id"]),
            "response": float(r["response"]),
            "answered_at": now,
        }
        for r in frame.to_dict("records")
    ]
    existing: set[tuple[str, str]] = set(
        _rows_of_teachers(
            session, [Response.teacher_id, Response.item_id], {str(r["teacher_id"]) for r in rows}
        )
    )
    new = [r for r in rows if (r["teacher_id"], r["item_id"]) not in existing]
    old = [r for r in rows if (r["teacher_id"], r["item_id"]) in existing]
    # Released before the writes: a re-import's batch finds every key stored, and the update's
    # staging would add to those tuples (peak of a 30,000-teacher re-import 671 → 637 MiB).
    del existing
    keys = ["teacher_id", "item_id", "region"]
    inserted = insert_new_rows(session, Response.__table__, new, keys)
    update_rows(session, Response, old, keys)
    return inserted, len(old)


def _store_grades(session: Session, principal: Principal, frame: pd.DataFrame) -> tuple[int, int]:
    regions = _require_visible_teachers(
        session, principal, set(frame["teacher_id"].astype(str)), "grades"
    )
    stamps = _utc(frame["assessed_at"])
    rows = [
        {
            "teacher_id": str(r["teacher_id"]),
            "region": regions[str(r["teacher_id"])],
            "point": str(r["point"]),
            "grade": str(r["grade"]),
            "assessed_at": ts,
        }
        for r, ts in zip(frame.to_dict("records"), stamps, strict=True)
    ]
    existing: set[tuple[str, str, datetime]] = set(
        _rows_of_teachers(
            session,
            [Grade.teacher_id, Grade.point, Grade.assessed_at],
            {str(r["teacher_id"]) for r in rows},
        )
    )
    distinct = {(r["teacher_id"], r["point"], r["assessed_at"]): r for r in rows}
    new = [r for key, r in distinct.items() if key not in existing]
    keys = ["teacher_id", "point", "assessed_at", "region"]
    return insert_new_rows(session, Grade.__table__, new, keys), 0


def _store_events(
    session: Session, principal: Principal, frame: pd.DataFrame, now: datetime
) -> tuple[int, int]:
    """Insert the new events of one table (see :func:`_store_event_frames`)."""
    regions = _require_visible_teachers(
        session, principal, set(frame["teacher_id"].astype(str)), "events"
    )
    return _store_event_frames(session, principal, regions, [frame], now), 0


def _store_event_frames(
    session: Session,
    principal: Principal,
    regions: dict[str, str],
    frames: Iterable[pd.DataFrame],
    now: datetime,
) -> int:
    """Insert new events slice by slice (bounded memory); a conflict anywhere aborts all.

    ``frames`` are consecutive pieces of one events table (a whole table, or the record
    batches of a Parquet file) and ``regions`` already holds every teacher they name, checked
    visible: on PostgreSQL the pieces stream through one ``COPY``, which admits no other query
    on the connection until it ends. The caller's transaction is rolled back on the conflict,
    so slices written before it disappear with it.
    """

    def slices() -> Iterator[tuple[int, EventColumns]]:
        offset = 0
        for frame in frames:
            for start in range(0, len(frame), EVENT_SLICE):
                piece = frame.iloc[start : start + EVENT_SLICE]
                columns = event_columns(piece, principal.tenant, now, regions, LOCAL_TIMEZONE)
                yield offset + start, columns
            offset += len(frame)

    if is_postgresql(session):
        return merge_events(session, (columns.copy_text() for _, columns in slices()))
    inserted = 0
    for start, columns in slices():
        rows = columns.dict_rows()
        stored = _stored_hashes(session, principal.tenant, [r["event_id"] for r in rows])
        _refuse_conflicts(rows, stored, start)
        new = [r for r in rows if r["event_id"] not in stored]
        added = insert_new_rows(session, Event.__table__, new, ["tenant", "event_id", "region"])
        if added < len(new):  # another import stored some of them meanwhile
            raced = _stored_hashes(session, principal.tenant, [r["event_id"] for r in new])
            _refuse_conflicts(new, raced, start)
        inserted += added
    return inserted


def _stored_hashes(session: Session, tenant: str, event_ids: list[str]) -> dict[str, str]:
    stored: dict[str, str] = {}
    for chunk in _chunks(event_ids):
        found = session.execute(
            select(Event.event_id, Event.content_hash).where(
                Event.tenant == tenant, Event.event_id.in_(chunk)
            )
        ).tuples()
        stored.update(dict(list(found)))
    return stored


def _refuse_conflicts(rows: list[dict[str, Any]], stored: dict[str, str], start: int) -> None:
    conflicts = [
        r["event_id"]
        for r in rows
        if r["event_id"] in stored and stored[r["event_id"]] != r["content_hash"]
    ]
    if conflicts:
        raise ConflictError(
            f"events: event_id {conflicts[0]!r} was already stored with other content "
            f"({len(conflicts)} such ids in rows {start + 1}–{start + len(rows)}); nothing "
            "was imported",
            details={"conflicting_event_ids": conflicts[:1000]},
        )


def store_tables(
    session: Session, principal: Principal, tables: dict[str, pd.DataFrame]
) -> dict[str, dict[str, int]]:
    """Write the tables in dependency order; returns inserted/updated counts per table.

    Raises
    ------
    NotFoundError
        A row refers to a school or teacher outside the key's scope (or unknown).
    ConflictError
        An event id is already stored with other content.
    """
    return _store_frames(session, principal, tables, datetime.now(UTC))


def _store_frames(
    session: Session, principal: Principal, tables: dict[str, pd.DataFrame], now: datetime
) -> dict[str, dict[str, int]]:
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    steps = [
        ("schools", lambda f: _store_schools(session, principal, f, now)),
        ("teachers", lambda f: _store_teachers(session, principal, f, now)),
        ("responses", lambda f: _store_responses(session, principal, f, now)),
        ("grades", lambda f: _store_grades(session, principal, f)),
        ("events", lambda f: _store_events(session, principal, f, now)),
    ]
    for name, step in steps:
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        session.flush()
        inserted[name], updated[name] = step(frame)
    return {"inserted": inserted, "updated": updated}


def _parquet_file(path: Path) -> pq.ParquetFile:
    """``path`` opened for reading batch by batch, with no read-ahead cache.

    With ``pre_buffer`` (pyarrow's default) the reader kept the column chunks it had buffered
    for the whole iteration: Arrow's allocated bytes grew by 14 MB per million events read and
    dropped batch by batch (pyarrow 26, measured), ~0.84 GB over a 60-million-event file.
    """
    return pq.ParquetFile(path, pre_buffer=False)


def _parquet_batches(path: Path, name: str, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of one Parquet table ``batch_rows`` at a time, with the canonical dtypes."""
    for batch in _parquet_file(path).iter_batches(batch_size=batch_rows):
        if batch.num_rows:
            yield normalize_table(name, batch.to_pandas())


def _parquet_teacher_ids(path: Path, batch_rows: int) -> set[str]:
    """The distinct teacher ids of a Parquet table, read one column and one batch at a time."""
    ids: set[str] = set()
    for batch in _parquet_file(path).iter_batches(batch_size=batch_rows, columns=["teacher_id"]):
        ids.update(str(v) for v in pc.unique(batch.column(0)).to_pylist() if v is not None)
    return ids


def store_province(
    session: Session,
    principal: Principal,
    directory: str | os.PathLike[str],
    batch_rows: int = PROVINCE_BATCH_ROWS,
) -> dict[str, dict[str, int]]:
    """Store a province directory (:func:`~competency_model.province.read_province` layout).

    The same rows and counts as ``store_tables(session, principal, read_province(directory)
    .tables())``, but ``teachers``, ``responses``, ``grades`` and ``events`` (Parquet) — tens of
    millions of rows at a million teachers — are read ``batch_rows`` at a time instead of whole,
    and no statement fetches a result per stored row, so memory is bounded by the batch, not the
    province (what still grows is the events' teacher ids and their regions, ~180 bytes a
    teacher: 0.18 GB at a million). (A row repeated across two batches is updated by the
    second, where a whole-table import inserts the first; a province directory holds no repeats.)
    The caller owns the transaction: a failure in any batch rolls back every earlier one.

    Raises
    ------
    NotFoundError
        A row refers to a school or teacher outside the key's scope (or unknown).
    ConflictError
        An event id is already stored with other content.
    """
    if batch_rows < 1:
        raise DatasetError(f"batch_rows must be at least 1, not {batch_rows}")
    root = Path(directory)
    batched = [n for n in _BATCHED if (root / f"{n}.parquet").is_file()]
    province = read_province(root, skip=[*batched, *TRUTH_TABLES])
    now = datetime.now(UTC)
    counts = _store_frames(
        session,
        principal,
        {name: getattr(province, name) for name in CORE_TABLES if name not in batched},
        now,
    )
    steps: dict[str, Callable[[pd.DataFrame], tuple[int, int]]] = {
        "teachers": lambda f: _store_teachers(session, principal, f, now),
        "responses": lambda f: _store_responses(session, principal, f, now),
        "grades": lambda f: _store_grades(session, principal, f),
    }
    for name, step in steps.items():
        path = root / f"{name}.parquet"
        if name not in batched or not pq.ParquetFile(path).metadata.num_rows:
            continue
        added = changed = 0
        for frame in _parquet_batches(path, name, batch_rows):
            session.flush()
            batch_added, batch_changed = step(frame)
            added, changed = added + batch_added, changed + batch_changed
        counts["inserted"][name], counts["updated"][name] = added, changed
    if "events" in batched:
        path = root / "events.parquet"
        if pq.ParquetFile(path).metadata.num_rows:
            session.flush()
            regions = _require_visible_teachers(
                session, principal, _parquet_teacher_ids(path, batch_rows), "events"
            )
            counts["inserted"]["events"] = _store_event_frames(
                session, principal, regions, _parquet_batches(path, "events", batch_rows), now
            )
            counts["updated"]["events"] = 0
    return {
        kind: {name: counts[kind][name] for name in CORE_TABLES if name in counts[kind]}
        for kind in ("inserted", "updated")
    }
