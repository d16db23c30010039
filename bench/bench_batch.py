"""Benchmark: a scaled-down national batch — N simulated provinces through ``nengli batch``.

Each province is simulated (``simulate_country``), written as one country directory, then run
through the batch pipeline (training, top-N lists for course/task/all, diagnosis) on the chosen
engine. Prints one JSON document with the wall time, each partition's time and the per-teacher
cost that docs/scale.md extrapolates from.

Usage::

    python -m bench.bench_batch --small                          # 3 provinces, local engine
    python -m bench.bench_batch --provinces 31 --engine ray      # the national run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import psutil

from competency_model.province import write_province
from recommender.batch import run_batch, run_partitions
from recommender.batch.synthetic import simulate_country

#: The 31 provincial-level divisions of mainland China (partition names in the national run).
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", type=int, default=31)
    parser.add_argument("--teachers", type=int, default=120, help="Teachers per province.")
    parser.add_argument("--schools", type=int, default=2, help="Schools per province.")
    parser.add_argument("--engine", default="ray", choices=("local", "ray"))
    parser.add_argument("--top-n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="3 provinces of 60, local engine.")
    args = parser.parse_args()
    if args.small:
        args.provinces, args.teachers, args.schools, args.engine = 3, 60, 1, "local"
    regions = PROVINCES[: args.provinces]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        write_province(
            simulate_country(regions, args.teachers, args.schools, args.seed), Path(tmp) / "data"
        )
        simulated = time.perf_counter()
        result = run_batch(
            Path(tmp) / "data",
            Path(tmp) / "batch",
            lambda tasks: run_partitions(tasks, args.engine),
            args.engine,
            seed=args.seed,
            top_n=args.top_n,
        )
    teachers = sum(p.teachers for p in result.partitions)
    task_seconds = sum(p.seconds for p in result.partitions)
    print(
        json.dumps(
            {
                "engine": args.engine,
                "provinces": len(regions),
                "teachers": teachers,
                "top_n": args.top_n,
                "simulate_seconds": round(simulated - started, 2),
                "batch_wall_seconds": result.seconds,
                "partition_seconds_sum": round(task_seconds, 2),
                "partition_seconds_max": max(p.seconds for p in result.partitions),
                "seconds_per_teacher_cpu": round(task_seconds / teachers, 4),
                "step_seconds_sum": {
                    step: round(sum(p.steps[step] for p in result.partitions), 2)
                    for step in ("train", "score", "diagnose")
                },
                "score_ms_per_teacher": round(
                    1e3 * sum(p.steps["score"] for p in result.partitions) / teachers, 3
                ),
                "list_rows": sum(p.list_rows for p in result.partitions),
                "diagnosis_rows": sum(p.diagnosis_rows for p in result.partitions),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
