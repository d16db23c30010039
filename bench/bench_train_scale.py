"""Benchmark: the whole ``HybridRecommender.fit`` against implicit ALS alone, side by side, one run.

The province comes from :func:`bench.bench_recommender.make_province`; its events are written to
Parquet and read back column-wise with dictionary-encoded ids (categorical columns, as
``nengli train`` reads them), so the peak memory is that of a real training run, not of the
generator's string arrays. Then, in one process and with the same factors, iterations and
threads: (1) implicit ALS alone on the full teacher × item confidence matrix, (2) the whole
fit. A sampling thread (psutil) records the peak RSS of each phase; the generator runs in a
child process so its arrays do not count.

Usage::

    python -m bench.bench_train_scale --small                # seconds
    nice python -m bench.bench_train_scale --teachers 1000000

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pyarrow.parquet as pq

from bench.bench_recommender import BenchProvince, make_province
from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.province_columns import read_events_columns
from recommender.ranking import HybridRecommender
from recommender.ranking.cf import CollaborativeFilter
from recommender.ranking.coded_events import CodedEvents

GB = 1024**3


class StageClock:
    """A progress reporter that records when each of ``fit``'s stages starts (wall seconds).

    ``fit`` names its stages for people (validation split, ALS, item-kNN, the ranker selection,
    the final refit); the benchmark keeps the same names with their durations, so a ratio that
    misses its target says which stage owns the difference.
    """

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._stages: list[tuple[str, float]] = []

    def stage(self, name: str, total: int | None = None) -> None:
        self._stages.append((name, time.perf_counter()))

    def advance(self, amount: int = 1) -> None:
        pass

    def seconds(self) -> dict[str, float]:
        """Each stage's duration, up to the next stage or to now for the last one."""
        ends = [at for _, at in self._stages[1:]] + [time.perf_counter()]
        return {
            name: round(end - at, 2) for (name, at), end in zip(self._stages, ends, strict=True)
        }


@contextmanager
def peak_rss(result: dict[str, Any], key: str) -> Iterator[None]:
    """Sample this process's RSS every 50 ms while the block runs; store the peak in GB."""
    process = psutil.Process()
    peak = [process.memory_info().rss]
    where: list[str] = []
    stop = threading.Event()
    main = threading.main_thread().ident

    def sample() -> None:
        while not stop.is_set():
            rss = process.memory_info().rss
            if rss > peak[0]:
                peak[0] = rss
                where[:] = _stack(main)
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        result[f"{key}_seconds"] = round(time.perf_counter() - started, 2)
        result[f"{key}_peak_rss_gb"] = round(max(peak[0], process.memory_info().rss) / GB, 3)
        if where:
            result[f"{key}_peak_at"] = where


def _stack(thread_id: int | None) -> list[str]:
    """The project's frames the thread is in, innermost first (what the process was doing)."""
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    stack: list[str] = []
    while frame is not None and len(stack) < 6:
        name = frame.f_code.co_filename
        if "/recommender/" in name or "/bench/" in name:
            stack.append(f"{Path(name).name}:{frame.f_code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return stack


def read_events_columnar(path: Path) -> pd.DataFrame:
    """The event log as ``nengli train`` reads it (training columns, ids as categoricals)."""
    return read_events_columns(path)


def _generate(teachers: int, items_per_teacher: int, seed: int, directory: str) -> None:
    province, mastery = make_province(teachers, items_per_teacher, seed)
    root = Path(directory)
    province.schools.to_parquet(root / "schools.parquet", index=False)
    province.teachers.to_parquet(root / "teachers.parquet", index=False)
    province.events.to_parquet(root / "events.parquet", index=False, row_group_size=1_000_000)
    mastery.to_parquet(root / "mastery.parquet", index=False)


def _param(text: str) -> tuple[str, Any]:
    """``NAME=JSON`` as (name, value); the estimator validates the value when it fits."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--param {text!r}: expected NAME=JSON, e.g. ranker_refit='\"all\"'")
    return name, json.loads(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--items-per-teacher", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="5,000 teachers (seconds).")
    parser.add_argument(
        "--save-model",
        type=Path,
        default=None,
        help="Write the fitted recommender here (bench_lists_serving serves it).",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="A HybridRecommender hyperparameter for the fit, e.g. ranker_refit='\"all\"'.",
    )
    args = parser.parse_args()
    overrides = dict(_param(text) for text in args.param)
    if args.small:
        args.teachers = 5_000
    result: dict[str, Any] = {"teachers": args.teachers, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        # The generator's string arrays would stay in this process's peak; it runs in a child.
        with peak_rss(result, "generate"):
            child = multiprocessing.get_context("spawn").Process(
                target=_generate, args=(args.teachers, args.items_per_teacher, args.seed, tmp)
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"generator failed with exit code {child.exitcode}")
        root = Path(tmp)
        result["events"] = int(pq.ParquetFile(root / "events.parquet").metadata.num_rows)
        with peak_rss(result, "read"):
            province = BenchProvince(
                pd.read_parquet(root / "schools.parquet"),
                pd.read_parquet(root / "teachers.parquet"),
                read_events_columnar(root / "events.parquet"),
            )
            mastery = pd.read_parquet(root / "mastery.parquet")
    catalog = load_catalog()
    framework = default_framework()
    model = HybridRecommender(num_threads=args.threads, random_state=args.seed, **overrides)
    result["params"] = overrides
    params = model.get_params()
    gc.collect()
    result["rss_before_fit_gb"] = round(psutil.Process().memory_info().rss / GB, 3)
    with peak_rss(result, "als_alone"):
        teacher_ids = province.teachers["teacher_id"].astype(str).to_numpy()
        item_ids = [i.item_id for i in catalog.items]
        coded = CodedEvents.from_frame(province.events, teacher_ids, item_ids)  # type: ignore[arg-type]
        matrix = coded.confidence(None, params["event_weights"])
        del coded
        with peak_rss(result, "als_solver"):
            CollaborativeFilter(
                algorithm="als",
                factors=params["factors"],
                regularization=params["regularization"],
                alpha=params["alpha"],
                iterations=params["iterations"],
                num_threads=args.threads,
                random_state=args.seed,
            ).fit(matrix)
        del matrix
    gc.collect()
    clock = StageClock()
    with peak_rss(result, "fit"):
        model.fit(province, mastery, catalog, framework, progress=clock)
    result["fit_stage_seconds"] = clock.seconds()
    if args.save_model is not None:
        from recommender.bundle import save_recommender

        save_recommender(model, args.save_model)
    result["fit_over_als"] = round(result["fit_seconds"] / result["als_alone_seconds"], 2)
    result["fit_over_als_solver"] = round(result["fit_seconds"] / result["als_solver_seconds"], 2)
    result["validation"] = model.validation_metrics_
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / GB, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
