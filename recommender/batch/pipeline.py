"""One batch partition end to end, and the whole batch: inputs → models → Parquet artifacts.

Layout of a batch directory::

    <out>/inputs/<key>/          the partition's tables (what a worker reads)
    <out>/partitions/<key>/      model/ (a verified bundle), lists.parquet, diagnosis.parquet
    <out>/manifest.json          partitions, model versions, row counts, file sha256

A partition's directory appears in one ``os.replace`` only when the whole partition is done, so
a worker killed mid-partition leaves nothing half-written and a retry (Ray re-runs a task whose
worker died) simply writes it again. Every random choice takes the batch seed, so the same
inputs give the same lists and diagnoses whichever engine ran them.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from competency_model.errors import DatasetError
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import Province, read_province, write_province
from recommender.artifacts import file_sha256
from recommender.batch.partitions import Partition, partition_province, plan_partitions
from recommender.batch.scoring import top_lists

__all__ = [
    "BatchResult",
    "PartitionResult",
    "PartitionTask",
    "read_batch",
    "run_batch",
    "run_partition",
]

MANIFEST = "manifest.json"
LISTS_FILE = "lists.parquet"
DIAGNOSIS_FILE = "diagnosis.parquet"


@dataclass(frozen=True)
class PartitionTask:
    """What a worker needs for one partition: where its tables are and where to write.

    Plain strings and numbers only, so the task travels to a Ray worker as a few bytes.
    """

    key: str
    input_dir: str
    output_dir: str
    seed: int
    top_n: int
    policy: str | None = None


@dataclass(frozen=True)
class PartitionResult:
    """What one partition produced (the manifest's entry for it)."""

    key: str
    model_version: str
    teachers: int
    list_rows: int
    diagnosis_rows: int
    seconds: float
    files: dict[str, str]
    #: Wall seconds of each step: train (diagnosis + recommender + bundle), score, diagnose.
    steps: dict[str, float]


@dataclass(frozen=True)
class BatchResult:
    """The whole batch: where it is, which engine ran it, and each partition's result."""

    out_dir: Path
    engine: str
    partitions: list[PartitionResult]
    seconds: float


def run_partition(task: PartitionTask) -> PartitionResult:
    """Train, score and diagnose one partition; publish its directory atomically.

    The model is written as a regular bundle (``nengli train``'s layout) and the lists are
    scored from the *loaded* bundle, so they are exactly what the service would serve from it.
    """
    from recommender.bundle import load_bundle
    from recommender.training import train_model_dir

    started = time.perf_counter()
    final = Path(task.output_dir) / task.key
    staging = Path(task.output_dir) / f".staging-{task.key}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        # One solver thread per task: the engine runs one task per CPU, and one thread keeps
        # the ALS result independent of how many cores a worker happens to have.
        train_model_dir(
            task.input_dir,
            staging / "model",
            policy=task.policy,
            seed=task.seed,
            params={"num_threads": 1},
        )
        bundle = load_bundle(staging / "model")
        version = bundle.version
        trained = time.perf_counter()
        lists = top_lists(bundle.recommender, task.top_n)
        scored = time.perf_counter()
        diagnosis = bundle.diagnosis.diagnose(read_province(task.input_dir))
        diagnosed = time.perf_counter()
        for frame in (lists, diagnosis):
            frame.insert(0, "model_version", version)
            frame.insert(0, "partition", task.key)
        lists.to_parquet(staging / LISTS_FILE, index=False)
        diagnosis.to_parquet(staging / DIAGNOSIS_FILE, index=False)
        if final.exists():  # an earlier attempt finished after all: replace it
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PartitionResult(
        key=task.key,
        model_version=version,
        teachers=int(lists["teacher_id"].nunique()),
        list_rows=int(len(lists)),
        diagnosis_rows=int(len(diagnosis)),
        seconds=round(time.perf_counter() - started, 2),
        files={name: file_sha256(final / name) for name in (LISTS_FILE, DIAGNOSIS_FILE)},
        steps={
            "train": round(trained - started, 2),
            "score": round(scored - trained, 2),
            "diagnose": round(diagnosed - scored, 2),
        },
    )


def prepare_inputs(
    province: Province, out_dir: Path, max_teachers: int | None
) -> list[tuple[Partition, Path]]:
    """Write each partition's tables under ``<out>/inputs/`` (the storage workers read from)."""
    partitions = plan_partitions(province.schools, province.teachers, max_teachers)
    written = []
    for partition in partitions:
        path = out_dir / "inputs" / partition.key
        write_province(partition_province(province, partition), path)
        written.append((partition, path))
    return written


Runner = Callable[[Sequence[PartitionTask]], list[PartitionResult]]


def run_batch(
    province: Province | str | Path,
    out_dir: str | Path,
    runner: Runner,
    engine: str,
    seed: int = 0,
    top_n: int = 20,
    max_teachers: int | None = None,
    policy: str | None = None,
    progress: ProgressReporter = NO_PROGRESS,
) -> BatchResult:
    """Partition ``province`` (tables or a province directory), run every partition, write
    the manifest.

    ``runner`` maps tasks to results (:func:`recommender.batch.engines.run_partitions`); the
    result list is in the partition plan's order whatever order the engine finished them in.
    ``progress`` hears reading and partitioning; the runner reports its own partitions.
    """
    started = time.perf_counter()
    root = Path(out_dir)
    progress.stage("读取数据 reading the province")
    tables = province if isinstance(province, Province) else read_province(province)
    root.mkdir(parents=True, exist_ok=True)  # after reading: a bad --data leaves no empty batch
    progress.stage(f"分区 writing partition inputs ({len(tables.teachers)} teachers)")
    planned = prepare_inputs(tables, root, max_teachers)
    tasks = [
        PartitionTask(p.key, str(path), str(root / "partitions"), seed, top_n, policy)
        for p, path in planned
    ]
    results = runner(tasks)
    # Every task has returned: a staging directory left now belongs to an attempt whose worker
    # died (its retry published the partition), so it can go.
    for stale in (root / "partitions").glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    by_key = {r.key: r for r in results}
    missing = [t.key for t in tasks if t.key not in by_key]
    if missing:
        raise DatasetError(f"batch finished without partitions {missing}")
    ordered = [by_key[t.key] for t in tasks]
    result = BatchResult(root, engine, ordered, round(time.perf_counter() - started, 2))
    manifest: dict[str, Any] = {
        "engine": engine,
        "seed": seed,
        "top_n": top_n,
        "max_teachers": max_teachers,
        "seconds": result.seconds,
        "partitions": [
            {**asdict(r), "region": p.region, "city": p.city}
            for r, (p, _) in zip(ordered, planned, strict=True)
        ],
    }
    (root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    return result


def read_batch(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every partition's lists and diagnoses of a finished batch, in manifest order."""
    root = Path(out_dir)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise DatasetError(f"{manifest_path} not found; run `nengli batch` first")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    keys = [p["key"] for p in manifest["partitions"]]
    lists = [pd.read_parquet(root / "partitions" / k / LISTS_FILE) for k in keys]
    diagnoses = [pd.read_parquet(root / "partitions" / k / DIAGNOSIS_FILE) for k in keys]
    return pd.concat(lists, ignore_index=True), pd.concat(diagnoses, ignore_index=True)
