"""Precomputed recommendation lists: load the batch's Parquet file, switch versions atomically.

The batch (``nengli batch``) writes one Parquet file per province with the columns
``teacher_id`` (str), ``kind`` (``course``/``task``/``all``), ``item_id``, ``rank`` (int, from
1), ``score`` (float), ``model_version`` (str, one value per file) and the item's reasons
``reasons_zh`` and ``reasons_en`` (lists of str; files of batches before the reasons lack both
columns, and their lists are explained by the service at request time). :func:`load_lists`
streams it into ``recommendation_lists`` (``COPY`` on PostgreSQL, into the region's partition)
beside the lists being served, then points the region at the new version in the same
transaction: a reader sees either the old lists or the new ones, never a mix. The rows of older
versions are deleted after the switch has committed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic_core import to_json
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from competency_model.errors import ImportRowError
from service.db import partitions
from service.db.bulk import copy_into_staging, is_postgresql
from service.db.models import School, Teacher
from service.db.scale_models import ListPointer, ListVersion, RecommendationListRow

__all__ = [
    "LIST_COLUMNS",
    "LIST_KINDS",
    "REASON_COLUMNS",
    "LoadedLists",
    "load_lists",
    "partition_name",
    "reasons_json",
]

LIST_COLUMNS = ("teacher_id", "kind", "item_id", "rank", "score", "model_version")
#: Optional (both or neither): each item's reasons as the batch rendered them.
REASON_COLUMNS = ("reasons_zh", "reasons_en")
LIST_KINDS = frozenset({"course", "task", "all"})
#: Rows read, checked and written at a time: memory grows with a batch, not with the file.
BATCH_ROWS = 200_000


@dataclass(frozen=True)
class LoadedLists:
    """What one load stored."""

    region: str
    model_version: str
    n_rows: int
    n_teachers: int
    replaced: str | None


def partition_name(region: str) -> str:
    """The PostgreSQL partition of ``region``'s lists (a hash: region names are Chinese)."""
    return partitions.partition_name("recommendation_lists", region)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(path: Path) -> tuple[pq.ParquetFile, bool]:
    """The file, and whether it carries the reasons columns."""
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise ImportRowError(f"{path}: not a readable Parquet file ({error})") from error
    names = parquet.schema_arrow.names
    missing = [c for c in LIST_COLUMNS if c not in names]
    if missing:
        raise ImportRowError(
            f"{path}: lacks column(s) {missing}; a list file has {list(LIST_COLUMNS)}"
        )
    present = [c for c in REASON_COLUMNS if c in names]
    if len(present) == 1:
        lacking = next(c for c in REASON_COLUMNS if c not in names)
        raise ImportRowError(
            f"{path}: has {present[0]!r} but not {lacking!r}; a list file carries both reasons "
            "columns (zh and en, as `nengli batch` writes them) or neither"
        )
    return parquet, bool(present)


def reasons_json(value: object) -> str | None:
    """A reasons cell as the JSON array the API sends (None stays None: explained live).

    Rendered by pydantic's encoder, the one the API's responses use, so the service can send
    the stored text as it is.
    """
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(reason, str) and reason for reason in value)
    ):
        raise ValueError(f"{value!r} is not a non-empty list of reasons (strings)")
    return to_json(value).decode("utf-8")


def _checked_rows(
    path: Path, parquet: pq.ParquetFile, with_reasons: bool
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of ``(teacher_id, kind, rank, item_id, score, model_version, reasons_zh,
    reasons_en)``, each row checked; the reasons are JSON text, or None without them."""
    offset = 0
    names = list(LIST_COLUMNS) + (list(REASON_COLUMNS) if with_reasons else [])
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=names):
        columns = {name: batch.column(name).to_pylist() for name in names}
        no_reasons = [None] * batch.num_rows
        zh_column = columns.get("reasons_zh", no_reasons)
        en_column = columns.get("reasons_en", no_reasons)
        rows = []
        for index in range(batch.num_rows):
            line = offset + index + 1
            teacher, kind, item, rank, score, version = (columns[c][index] for c in LIST_COLUMNS)

            def bad(field: str, why: str, line: int = line) -> ImportRowError:
                return ImportRowError(
                    f"{path}: row {line}, field {field!r}: {why}",
                    details={"file": str(path), "row": line, "field": field},
                )

            if not isinstance(teacher, str) or not teacher:
                raise bad("teacher_id", f"{teacher!r} is not a teacher id")
            if kind not in LIST_KINDS:
                raise bad("kind", f"{kind!r}; use one of {sorted(LIST_KINDS)}")
            if not isinstance(item, str) or not item:
                raise bad("item_id", f"{item!r} is not an item id")
            if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
                raise bad("rank", f"{rank!r}; ranks are integers from 1")
            if not isinstance(score, (int, float)) or not math.isfinite(score):
                raise bad("score", f"{score!r} is not a finite number")
            if not isinstance(version, str) or not version:
                raise bad("model_version", f"{version!r} is not a model version")
            reasons: list[str | None] = []
            for field, value in (
                ("reasons_zh", zh_column[index]),
                ("reasons_en", en_column[index]),
            ):
                try:
                    reasons.append(reasons_json(value))
                except ValueError as error:
                    raise bad(field, str(error)) from None
            if (reasons[0] is None) != (reasons[1] is None):
                raise bad("reasons_en", "give the reasons in both languages or in neither")
            rows.append((teacher, kind, int(rank), item, float(score), version, *reasons))
        offset += batch.num_rows
        yield rows


def _region_of(session: Session, path: Path, teacher_id: str) -> str:
    region = session.scalar(
        select(School.region)
        .join(Teacher, Teacher.school_id == School.school_id)
        .where(Teacher.teacher_id == teacher_id)
    )
    if region is None:
        raise ImportRowError(
            f"{path}: row 1, field 'teacher_id': teacher {teacher_id!r} is not in the database; "
            "import the province's teachers before loading its lists",
            details={"file": str(path), "row": 1, "field": "teacher_id"},
        )
    return str(region)


def _write_postgres(session: Session, region: str, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
    """COPY one batch into staging, then insert the rows of teachers of ``region``."""
    copy_into_staging(
        session,
        "list_staging",
        [
            ("teacher_id", "text"),
            ("kind", "text"),
            ("rank", "integer"),
            ("item_id", "text"),
            ("score", "double precision"),
            ("model_version", "text"),
            ("reasons_zh", "text"),
            ("reasons_en", "text"),
        ],
        rows,
    )
    inserted = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        text(
            "INSERT INTO recommendation_lists "
            "(region, model_version, teacher_id, kind, rank, item_id, score, reasons_zh, "
            "reasons_en) "
            "SELECT s.region, x.model_version, x.teacher_id, x.kind, x.rank, x.item_id, x.score, "
            "x.reasons_zh, x.reasons_en "
            "FROM list_staging x JOIN teachers t ON t.teacher_id = x.teacher_id "
            "JOIN schools s ON s.school_id = t.school_id AND s.region = :region"
        ),
        {"region": region},
    ).rowcount
    return int(inserted), len(rows)


def _write_sqlite(session: Session, region: str, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
    ids = sorted({row[0] for row in rows})
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        known.update(
            session.scalars(
                select(Teacher.teacher_id)
                .join(School, School.school_id == Teacher.school_id)
                .where(Teacher.teacher_id.in_(ids[start : start + 500]), School.region == region)
            )
        )
    records = [
        {
            "region": region,
            "teacher_id": teacher,
            "kind": kind,
            "rank": rank,
            "item_id": item,
            "score": score,
            "model_version": version,
            "reasons_zh": zh,
            "reasons_en": en,
        }
        for teacher, kind, rank, item, score, version, zh, en in rows
        if teacher in known
    ]
    if records:
        session.execute(insert(RecommendationListRow), records)
    return len(records), len(rows)


def _first_foreign(session: Session, region: str, rows: list[tuple[Any, ...]]) -> str:
    for teacher, *_ in rows:
        if _region_of_or_none(session, teacher) != region:
            return str(teacher)
    return str(rows[0][0])


def _region_of_or_none(session: Session, teacher_id: str) -> str | None:
    return session.scalar(
        select(School.region)
        .join(Teacher, Teacher.school_id == School.school_id)
        .where(Teacher.teacher_id == teacher_id)
    )


def load_lists(session: Session, path: Path) -> LoadedLists:
    """Load ``path`` as the lists of its province and switch the province to them (commits).

    The region is the one of the file's teachers, all of whom must be in the database and in
    one region. Loading the same version again replaces it.

    Raises
    ------
    ImportRowError
        The file is unreadable or a row is invalid (the message names row and field), holds
        two model versions, or names a teacher unknown to the database or of another region;
        nothing is switched.
    """
    path = Path(path)
    parquet, with_reasons = _open(path)
    if parquet.metadata.num_rows == 0:
        raise ImportRowError(f"{path}: holds no rows; nothing to load")
    first = parquet.read_row_group(0, columns=["teacher_id", "model_version"]).slice(0, 1)
    region = _region_of(session, path, str(first.column("teacher_id")[0].as_py()))
    version = str(first.column("model_version")[0].as_py())
    postgres = is_postgresql(session)
    if postgres:
        # The partition exists for good (committed apart); the load itself is one transaction.
        partitions.ensure_region_partitions(session, [region])
    session.execute(
        delete(RecommendationListRow).where(
            RecommendationListRow.region == region, RecommendationListRow.model_version == version
        )
    )
    write = _write_postgres if postgres else _write_sqlite
    stored = seen = 0
    for rows in _checked_rows(path, parquet, with_reasons):
        other = next((row for row in rows if row[5] != version), None)
        if other is not None:
            raise ImportRowError(
                f"{path}: holds model versions {version!r} and {other[5]!r}; a list file is one "
                "version of one province",
                details={"file": str(path), "field": "model_version"},
            )
        try:
            written, read = write(session, region, rows)
        except IntegrityError as error:
            raise ImportRowError(
                f"{path}: a (teacher_id, kind, rank) appears twice in rows {seen + 1}–"
                f"{seen + len(rows)} or earlier; each rank of a list is one item — nothing was "
                "switched",
                details={"file": str(path), "field": "rank"},
            ) from error
        if written != read:
            foreign = _first_foreign(session, region, rows)
            raise ImportRowError(
                f"{path}: teacher {foreign!r} is not a teacher of {region!r} in the database "
                f"({read - written} such rows in rows {seen + 1}–{seen + read}); nothing was "
                "switched",
                details={"file": str(path), "field": "teacher_id", "teacher_id": foreign},
            )
        stored += written
        seen += read
    n_teachers = int(
        session.scalar(
            select(func.count(func.distinct(RecommendationListRow.teacher_id))).where(
                RecommendationListRow.region == region,
                RecommendationListRow.model_version == version,
            )
        )
        or 0
    )
    now = datetime.now(UTC)
    upsert = pg_insert if postgres else sqlite_insert
    row = {
        "region": region,
        "model_version": version,
        "n_rows": stored,
        "n_teachers": n_teachers,
        "source_sha256": _sha256(path),
        "loaded_at": now,
    }
    statement = upsert(ListVersion).values(row)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["region", "model_version"],
            set_={k: statement.excluded[k] for k in row if k not in ("region", "model_version")},
        )
    )
    replaced = session.scalar(select(ListPointer.model_version).where(ListPointer.region == region))
    pointer = upsert(ListPointer).values(region=region, model_version=version, switched_at=now)
    session.execute(
        pointer.on_conflict_do_update(
            index_elements=["region"],
            set_={"model_version": version, "switched_at": now},
        )
    )
    session.commit()  # the switch: readers see the new lists from here on
    for table in (RecommendationListRow, ListVersion):
        session.execute(delete(table).where(table.region == region, table.model_version != version))
    session.commit()
    return LoadedLists(region, version, stored, n_teachers, replaced)
