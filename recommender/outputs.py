"""Whole-province batch outputs: every teacher's list and every teacher's diagnosis as Parquet.

``nengli recommend --all-teachers`` and ``nengli diagnose --all-teachers`` write these for a
platform's nightly refresh. Both work chunk by chunk (a Parquet row group per chunk), so memory
grows with a chunk, not with the province, and report progress through a callback.

- recommendations: ``teacher_id, item_id, rank, score`` (``rank`` from 1), from
  :func:`recommender.ranking.batch.recommend_all`;
- mastery: ``teacher_id, point, mastery_probability, sd, evidence_count``, from the bundle's
  fitted :class:`~recommender.diagnosis.DiagnosisModel` applied to the province's answers,
  grades and events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from competency_model.province import ProvinceTables
from recommender.diagnosis import DiagnosisModel
from recommender.ranking.batch import RECOMMENDATION_COLUMNS, recommend_all
from recommender.ranking.estimator import HybridRecommender
from recommender.ranking.filters import ListKind

__all__ = ["MASTERY_COLUMNS", "diagnose_all", "write_mastery", "write_recommendations"]

#: Columns of the batch mastery table.
MASTERY_COLUMNS = ("teacher_id", "point", "mastery_probability", "sd", "evidence_count")

Progress = Callable[[int], None]


def _write(frames: Iterator[pd.DataFrame], out: str | Path, schema: pa.Schema) -> int:
    """Stream ``frames`` into one Parquet file (one row group each); return the row count."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    rows = 0
    with pq.ParquetWriter(partial, schema) as writer:
        for frame in frames:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            rows += len(frame)
    partial.replace(out)  # a reader never sees half a file
    return rows


def write_recommendations(
    model: HybridRecommender,
    out: str | Path,
    kind: ListKind = "all",
    k: int = 10,
    chunk_size: int = 2000,
    progress: Progress | None = None,
) -> int:
    """Every known teacher's top ``k`` to ``out`` (Parquet); returns the number of rows."""
    schema = pa.schema(
        [
            ("teacher_id", pa.string()),
            ("item_id", pa.string()),
            ("rank", pa.int32()),
            ("score", pa.float64()),
        ]
    )
    assert tuple(schema.names) == RECOMMENDATION_COLUMNS
    return _write(recommend_all(model, kind, k, chunk_size, progress), out, schema)


@dataclass(frozen=True)
class _Chunk:
    """Some teachers' rows of the five tables (what ``DiagnosisModel.diagnose`` reads)."""

    schools: pd.DataFrame
    teachers: pd.DataFrame
    responses: pd.DataFrame
    grades: pd.DataFrame
    events: pd.DataFrame


def _by_teacher(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    ordered = frame.sort_values("teacher_id", kind="stable").reset_index(drop=True)
    return ordered, ordered["teacher_id"].astype(str).to_numpy()


def diagnose_all(
    diagnosis: DiagnosisModel,
    province: ProvinceTables,
    chunk_size: int = 5000,
    progress: Progress | None = None,
) -> Iterator[pd.DataFrame]:
    """Every teacher's diagnosis (``MASTERY_COLUMNS``), one DataFrame per chunk of teachers."""
    teachers = province.teachers.sort_values("teacher_id", kind="stable").reset_index(drop=True)
    ids = teachers["teacher_id"].astype(str).to_numpy()
    tables = {
        name: _by_teacher(getattr(province, name)) for name in ("responses", "grades", "events")
    }
    for start in range(0, len(ids), chunk_size):
        first, last = ids[start], ids[min(start + chunk_size, len(ids)) - 1]
        parts = {}
        for name, (frame, keys) in tables.items():
            lo = np.searchsorted(keys, first, side="left")
            hi = np.searchsorted(keys, last, side="right")
            parts[name] = frame.iloc[lo:hi]
        chunk = _Chunk(
            province.schools, teachers.iloc[start : start + chunk_size], **parts
        )  # fmt: skip
        table = diagnosis.diagnose(chunk)
        yield table[list(MASTERY_COLUMNS)].assign(
            teacher_id=lambda t: t["teacher_id"].astype(str),
            evidence_count=lambda t: t["evidence_count"].astype(np.int64),
        )
        if progress is not None:
            progress(len(chunk.teachers))


def write_mastery(
    diagnosis: DiagnosisModel,
    province: ProvinceTables,
    out: str | Path,
    chunk_size: int = 5000,
    progress: Progress | None = None,
) -> int:
    """Every teacher × point diagnosis to ``out`` (Parquet); returns the number of rows."""
    schema = pa.schema(
        [
            ("teacher_id", pa.string()),
            ("point", pa.string()),
            ("mastery_probability", pa.float64()),
            ("sd", pa.float64()),
            ("evidence_count", pa.int64()),
        ]
    )
    return _write(diagnose_all(diagnosis, province, chunk_size, progress), out, schema)
