"""Stream a simulated province to disk chunk by chunk, so a million teachers fit in memory.

The files have the layout of :func:`competency_model.province.write_province` (one file per table
plus ``province.json``) and are read back with :func:`competency_model.province.read_province`.
Writing goes through the same atomic-directory helper: an interrupted run leaves ``out_dir``
untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from competency_model.catalog import Catalog
from competency_model.errors import DatasetError
from competency_model.framework import Framework
from competency_model.item_bank import ItemBank
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import (
    CORE_TABLES,
    MANIFEST_NAME,
    TRUTH_TABLES,
    atomic_directory,
    normalize_table,
)
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.engine import iter_chunks, prepare

__all__ = ["write_simulated_province"]

_CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class _TableSink:
    """Appends normalised frames of one table to a Parquet or CSV file."""

    def __init__(self, path: Path, format: str) -> None:
        self.path = path
        self.format = format
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._started = False

    def append(self, frame: pd.DataFrame) -> None:
        if self.format == "parquet":
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._writer is None:
                self._schema = table.schema
                self._writer = pq.ParquetWriter(self.path, self._schema)
            else:
                table = table.cast(self._schema)
            self._writer.write_table(table)
        else:
            first = not self._started
            frame.to_csv(
                self.path,
                mode="w" if first else "a",
                header=first,
                index=False,
                encoding="utf-8",
                date_format=_CSV_DATE_FORMAT,
            )
        self._started = True
        self.rows += len(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def write_simulated_province(
    out_dir: str | os.PathLike[str],
    n_teachers: int,
    n_schools: int,
    seed: int,
    format: Literal["parquet", "csv"] = "parquet",
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    item_bank: ItemBank | None = None,
    config: SimulatorConfig | None = None,
    progress: ProgressReporter = NO_PROGRESS,
) -> dict[str, Any]:
    """Simulate and write a province without holding all of it in memory.

    Parameters
    ----------
    out_dir
        Target directory (replaced atomically; unrelated files in it are kept).
    n_teachers, n_schools, seed, framework, catalog, item_bank, config
        As for :func:`training_data.simulator.simulate_province`; the rows written equal the
        rows that function returns.
    format
        ``"parquet"`` (one row group per chunk) or ``"csv"`` (UTF-8).
    progress
        Hears the stages and the teachers written, chunk by chunk (a bar with an ETA in the CLI).

    Returns
    -------
    dict
        The manifest written to ``province.json``: format, rows per table and the simulator
        arguments.
    """
    if format not in ("parquet", "csv"):
        raise DatasetError(f"unknown format {format!r}; use 'parquet' or 'csv'")
    progress.stage("准备 preparing schools, catalog and item bank")
    ctx = prepare(n_teachers, n_schools, seed, framework, catalog, item_bank, config)
    owned = [MANIFEST_NAME] + [
        f"{t}.{f}" for t in [*CORE_TABLES, *TRUTH_TABLES] for f in ("parquet", "csv")
    ]
    with atomic_directory(out_dir, owned=owned) as staging:
        sinks: dict[str, _TableSink] = {}
        try:
            progress.stage("模拟并写入 simulating and writing teachers", total=n_teachers)
            for province in iter_chunks(ctx):
                for name, frame in province.tables().items():
                    if name not in sinks:
                        sinks[name] = _TableSink(staging / f"{name}.{format}", format)
                    sinks[name].append(normalize_table(name, frame))
                progress.advance(len(province.teachers))
            progress.stage("写入 writing the item truth and manifest")
            items = _TableSink(staging / f"truth_items.{format}", format)
            items.append(normalize_table("truth_items", ctx.items.to_frame()))
            sinks["truth_items"] = items
        finally:
            for sink in sinks.values():
                sink.close()
        manifest: dict[str, Any] = {
            "format": format,
            "tables": {name: sink.rows for name, sink in sinks.items()},
            "simulator": {
                "n_teachers": n_teachers,
                "n_schools": n_schools,
                "seed": seed,
                "family": ctx.config.family,
            },
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest
