"""Benchmark: memory per API worker when 1 or 4 workers load the same model directory.

Trains the recommender on a generated province (:func:`bench.bench_recommender.make_province`),
saves it, then starts W worker processes that each load it with
:func:`recommender.bundle.load_recommender` (sha256 verified, large arrays memory-mapped) and
answer a few lists, and reports each worker's RSS, PSS (shared pages split between the
processes that map them) and USS (private pages). With ``--copy`` the arrays are read into
private memory instead (the loading before memory maps), for comparison.

Usage::

    python -m bench.bench_serving_memory --small
    python -m bench.bench_serving_memory --teachers 200000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any

import psutil

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
    info = psutil.Process().memory_full_info()
    out.put({"rss_gb": info.rss / GB, "pss_gb": info.pss / GB, "uss_gb": info.uss / GB})
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
    return {
        key: round(sum(r[key] for r in rows) / len(rows), 3)
        for key in ("rss_gb", "pss_gb", "uss_gb")
    } | {"workers": workers, "mode": "copy" if copy else "mmap"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="3,000 teachers.")
    args = parser.parse_args()
    if args.small:
        args.teachers = 3_000
    from bench.bench_recommender import make_province
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from recommender.bundle import save_recommender
    from recommender.ranking import HybridRecommender

    with tempfile.TemporaryDirectory() as tmp:
        province, mastery = make_province(args.teachers, 10, args.seed)
        model = HybridRecommender(num_threads=2, random_state=args.seed).fit(
            province, mastery, load_catalog(), default_framework()
        )
        model_dir = save_recommender(model, Path(tmp) / "model")
        size = sum(f.stat().st_size for f in model_dir.iterdir()) / GB
        del model, province, mastery
        runs = [measure(model_dir, w, copy) for copy in (False, True) for w in (1, 4)]
    print(
        json.dumps(
            {
                "teachers": args.teachers,
                "model_dir_gb": round(size, 3),
                "workers": runs,
                "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
