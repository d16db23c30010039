"""A seeded, vectorised province writer for storage benchmarks at millions of teachers.

The simulator (``nengli generate``) models learning, so writing a 1,000,000-teacher,
60-million-event province with it takes hours; a storage benchmark needs only the shape: the
same tables, columns, dtypes and value domains, real catalog / item bank / framework ids, and
keys that are unique where the database says they are. Tables are written to Parquet a chunk
of teachers at a time (one row group per chunk), so memory stays bounded by the chunk however
large the province is.

Value domains follow the simulator's output: schools ``S000001`` in region 江苏 with a city,
district, urban/rural flag, an environment from :data:`~competency_model.framework.ENVIRONMENTS`
and ``;``-joined chosen points; teachers ``T0000001`` with stage/subject/research group;
questionnaire answers 0/1 for scenario items and 1..scale for self ratings; grades 优秀/合格/
不合格 on distinct framework points; events enrol/progress/complete/rate on catalog items with
progress in (0, 1] and ratings 1–5, Beijing time without an offset.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from competency_model.catalog import default_catalog
from competency_model.framework import ENVIRONMENTS, default_framework
from competency_model.item_bank import default_item_bank
from competency_model.province import MANIFEST_NAME, empty_table, normalize_table
from competency_model.vocabulary import RATINGS
from training_data.simulator.ids import format_ids

__all__ = ["write_synthetic_province"]

_CITIES = ("南京", "苏州", "无锡", "徐州", "盐城", "扬州", "连云港", "南通")
_DISTRICTS = ("玄武区", "姑苏区", "梁溪区", "丰县", "阜宁县", "高邮市", "海州区", "崇川区")
_STAGES = ("幼儿园", "小学", "初中", "高中")
_SUBJECTS = ("语文", "数学", "英语", "道德与法治", "信息科技", "科学")
_EVENTS = ("enrol", "progress", "complete", "rate")
#: Shares of the simulator's events (200 teachers, seed 0): progress 47%, enrol 25%, …
_EVENT_SHARES = (0.25, 0.47, 0.19, 0.09)
_START = np.datetime64("2020-10-01T00:00:00", "s")
_SPAN_SECONDS = int((np.datetime64("2023-09-01T00:00:00", "s") - _START).astype(np.int64))


def _pick(values: tuple[str, ...] | list[str], codes: NDArray[np.integer]) -> pd.Series:
    """``values[codes]`` as an Arrow string Series (no per-row Python objects)."""
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(values))
    )
    return pd.Series(pd.array(dictionary.cast(pa.string()), dtype=pd.ArrowDtype(pa.string())))


def _stamps(rng: np.random.Generator, n: int, start: np.datetime64, span: int) -> pd.Series:
    offsets = rng.integers(0, span, size=n).astype("timedelta64[s]")
    return pd.Series((start + offsets).astype("datetime64[us]"))


class _TableWriter:
    """One Parquet file written a chunk at a time with the schema of its first chunk."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(normalize_table(self.name, frame), preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.rows += len(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _schools(
    rng: np.random.Generator, n_schools: int, per_school: NDArray[np.int64]
) -> pd.DataFrame:
    codes = default_framework().codes
    chosen = [
        ";".join(sorted(rng.choice(codes, size=int(rng.integers(3, 6)), replace=False)))
        for _ in range(n_schools)
    ]
    return pd.DataFrame(
        {
            "school_id": format_ids("S", np.arange(1, n_schools + 1), 6),
            "region": "江苏",
            "city": _pick(_CITIES, rng.integers(0, len(_CITIES), n_schools)),
            "district": _pick(_DISTRICTS, rng.integers(0, len(_DISTRICTS), n_schools)),
            "urban_rural": _pick(("urban", "rural"), rng.integers(0, 2, n_schools)),
            "environment": _pick(list(ENVIRONMENTS), rng.integers(0, len(ENVIRONMENTS), n_schools)),
            "n_teachers": per_school,
            "chosen_points": chosen,
            "rollout_batch": rng.integers(1, 4, n_schools),
        }
    )


def write_synthetic_province(
    out: Path,
    teachers: int,
    schools: int | None = None,
    events_per_teacher: int = 60,
    responses_per_teacher: int = 20,
    grades_per_teacher: int = 2,
    seed: int = 0,
    chunk_teachers: int = 20_000,
) -> dict[str, int]:
    """Write a province of ``teachers`` teachers to ``out`` (Parquet); returns rows per table.

    ``schools`` defaults to one per 50 teachers. Event ids are ``E`` + 11 digits, unique over
    the whole province, so the file imports as new events once and as duplicates after.
    """
    if teachers < 1 or teachers >= 10**7:
        raise ValueError("teachers must lie in 1..9,999,999 (T + 7 digits)")
    n_schools = schools or max(1, teachers // 50)
    if n_schools >= 10**6:
        raise ValueError("schools must be below 1,000,000 (S + 6 digits)")
    bank = default_item_bank()
    items = bank.items[: min(responses_per_teacher, len(bank.items))]
    item_ids = [item.item_id for item in items]
    scenario = np.array([item.kind == "scenario" for item in items])
    scale = np.array([item.max_response for item in items], dtype=np.int64)
    points = list(default_framework().codes)
    catalog_ids = list(default_catalog().ids)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    school_of = np.arange(teachers, dtype=np.int64) * n_schools // teachers
    per_school = np.bincount(school_of, minlength=n_schools).astype(np.int64)
    writers = {
        name: _TableWriter(out / f"{name}.parquet", name)
        for name in ("schools", "teachers", "responses", "grades", "events")
    }
    try:
        writers["schools"].write(_schools(rng, n_schools, per_school))
        for first in range(0, teachers, chunk_teachers):
            n = min(chunk_teachers, teachers - first)
            numbers = np.arange(first + 1, first + n + 1)
            teacher_ids = format_ids("T", numbers, 7)
            stage = rng.integers(0, len(_STAGES), n)
            subject = np.where(stage == 0, len(_SUBJECTS), rng.integers(0, len(_SUBJECTS), n))
            subjects = (*_SUBJECTS, "通用")
            groups = [f"{s}{t}组" for s in _STAGES for t in subjects]
            writers["teachers"].write(
                pd.DataFrame(
                    {
                        "teacher_id": teacher_ids,
                        "school_id": format_ids("S", school_of[first : first + n] + 1, 6),
                        "stage": _pick(_STAGES, stage),
                        "subject": _pick(subjects, subject),
                        "years_of_service": rng.integers(0, 36, n),
                        "research_group": _pick(groups, stage * len(subjects) + subject),
                    }
                )
            )
            k = len(item_ids)
            if k:
                answers = np.where(
                    np.tile(scenario, n),
                    rng.integers(0, 2, n * k),
                    1 + (rng.random(n * k) * np.tile(scale, n)).astype(np.int64),
                ).astype(np.float64)
                writers["responses"].write(
                    pd.DataFrame(
                        {
                            "teacher_id": teacher_ids.repeat(k).reset_index(drop=True),
                            "item_id": _pick(item_ids, np.tile(np.arange(k), n)),
                            "response": answers,
                        }
                    )
                )
            g = min(grades_per_teacher, len(points))
            if g:
                start = rng.integers(0, len(points), n).repeat(g)
                writers["grades"].write(
                    pd.DataFrame(
                        {
                            "teacher_id": teacher_ids.repeat(g).reset_index(drop=True),
                            "point": _pick(
                                points, (start + np.tile(np.arange(g), n)) % len(points)
                            ),
                            "grade": _pick(RATINGS, rng.choice(3, size=n * g, p=(0.5, 0.4, 0.1))),
                            "assessed_at": _stamps(
                                rng, n * g, np.datetime64("2022-01-01T00:00:00", "s"), 90 * 86400
                            ),
                        }
                    )
                )
            e = events_per_teacher
            if e:
                kind = rng.choice(len(_EVENTS), size=n * e, p=_EVENT_SHARES)
                value = np.full(n * e, np.nan)
                progress = kind == 1
                value[progress] = np.round(rng.uniform(0.01, 1.0, int(progress.sum())), 3)
                rate = kind == 3
                value[rate] = rng.integers(1, 6, int(rate.sum())).astype(np.float64)
                writers["events"].write(
                    pd.DataFrame(
                        {
                            "event_id": format_ids(
                                "E", np.arange(first * e + 1, (first + n) * e + 1), 11
                            ),
                            "teacher_id": teacher_ids.repeat(e).reset_index(drop=True),
                            "item_id": _pick(catalog_ids, rng.integers(0, len(catalog_ids), n * e)),
                            "event": _pick(_EVENTS, kind),
                            "value": value,
                            "timestamp": _stamps(rng, n * e, _START, _SPAN_SECONDS),
                        }
                    )
                )
    finally:
        for writer in writers.values():
            writer.close()
    counts = {name: writer.rows for name, writer in writers.items()}
    for name, writer in writers.items():
        if writer.rows == 0:  # every core table must exist, even empty
            empty_table(name).to_parquet(writer.path, index=False)
    (out / MANIFEST_NAME).write_text(
        json.dumps({"format": "parquet", "tables": counts}, indent=2), encoding="utf-8"
    )
    return counts
