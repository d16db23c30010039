"""Benchmark: memory per API worker when 1 or 4 workers load the same model directory.

Trains the recommender on a generated province (:func:`bench.bench_recommender.make_province`),
saves it, then starts W worker processes that each load it with
:func:`recommender.bundle.load_recommender` (sha256 verified, large arrays memory-mapped) and
answer a few lists, and reports each worker's RSS, PSS (shared pages split between the
processes that map them) and USS (private pages). With ``--copy`` the arrays are read into
private memory instead (the loading before memory maps), for comparison.

At 1,000,000 teachers training here would hold the generator's arrays beside the fit; train
once with ``bench_train_scale --save-model DIR`` (the generator in a child process, events read
column-wise, peak 3.8 GB) and pass ``--model-dir DIR``: the workers then load that directory and
nothing is trained. The workers are bare processes that load the model the way an API worker's
registry does (same loader, same memory maps), not uvicorn workers behind PostgreSQL.

Usage::

    python -m bench.bench_serving_memory --small
    python -m bench.bench_serving_memory --teachers 200000
    python -m bench.bench_train_scale --teachers 1000000 --save-model /tmp/model1m
    python -m bench.bench_serving_memory --model-dir /tmp/model1m
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.process_memory import process_memory, summarise

GB = 1024**3


def _worker(model_dir: str, copy: bool, ready: Any, done: Any, out: Any) -> None:
    import recommender.artifacts as artifacts
    from recommender.bundle import load_recommender

    if copy:
        artifacts.MMAP_MIN_BYTES = 1 << 62
    model = load_recommender(model_dir)
    n = len(model.teachers_.teacher_ids)
    for row in range(0, n, max(1, n // 50)):
        model.rank_row(row, "course", depth=10)
    ready.wait()
    out.put(process_memory(psutil.Process()) | {"teachers": n})
    done.wait()


def measure(model_dir: Path, workers: int, copy: bool) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ready, done, out = ctx.Barrier(workers + 1), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(str(model_dir), copy, ready, done, out))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    ready.wait()
    rows = [out.get(timeout=600) for _ in procs]
    done.set()
    for p in procs:
        p.join()
    # The mean is the per-worker figure; the max says whether one worker differs from the rest.
    return summarise(rows) | {
        "workers": workers,
        "mode": "copy" if copy else "mmap",
        "teachers": rows[0]["teachers"],
    }


def measure_all(model_dir: Path) -> list[dict[str, Any]]:
    """Memory-mapped with 1 and 4 workers, then copying with 1 and 4, one after the other."""
    return [measure(model_dir, w, copy) for copy in (False, True) for w in (1, 4)]


def _dir_gb(model_dir: Path) -> float:
    return round(sum(f.stat().st_size for f in model_dir.iterdir()) / GB, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="3,000 teachers.")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="Load this saved recommender (e.g. bench_train_scale --save-model) instead of training.",
    )
    args = parser.parse_args()
    if args.small:
        args.teachers = 3_000
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    if args.model_dir is not None:
        # Only the workers load the model: a copy mapped here would take a share of their PSS.
        runs = measure_all(args.model_dir)
        _report(
            runs[0]["teachers"], _dir_gb(args.model_dir), runs, load_before, started, args.model_dir
        )
        return
    from bench.bench_recommender import make_province
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from recommender.bundle import save_recommender
    from recommender.ranking import HybridRecommender

    with tempfile.TemporaryDirectory() as tmp:
        province, mastery = make_province(args.teachers, 10, args.seed)
        # --small only checks that the script runs (make bench): a forced linear ranker skips
        # the LambdaRank candidates of the model selection, most of a small fit's time.
        ranker = "linear" if args.small else "auto"
        model = HybridRecommender(num_threads=2, ranker=ranker, random_state=args.seed).fit(
            province, mastery, load_catalog(), default_framework()
        )
        model_dir = save_recommender(model, Path(tmp) / "model")
        del model, province, mastery
        runs = measure_all(model_dir)
        _report(args.teachers, _dir_gb(model_dir), runs, load_before, started, None)


def _report(
    teachers: int,
    size_gb: float,
    runs: list[dict[str, Any]],
    load_before: list[float],
    started: float,
    model_dir: Path | None,
) -> None:
    print(
        json.dumps(
            {
                "teachers": teachers,
                "model_dir": str(model_dir) if model_dir is not None else None,
                "model_dir_gb": size_gb,
                "workers": runs,
                "seconds": round(time.perf_counter() - started, 1),
                "machine": {
                    "cpus": os.cpu_count(),
                    "memory_gb": round(psutil.virtual_memory().total / GB, 1),
                    "load_average_before": load_before,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
