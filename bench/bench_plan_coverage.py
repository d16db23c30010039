"""Share of teachers with a compliant plan per policy × stage × environment; prints JSON.

Issue 18's target is ≥ 99 % in every cell. Teachers are a seeded random sample of up to
``--per-cell`` teachers from each stage × environment of a simulated province (mastery = the
simulator's initial truth, the school's chosen points as 一校一策 selection); each teacher's plan
is built with the shipped catalog and checked with ``validate_plan``.

Usage::

    python -m bench.bench_plan_coverage --small                       # seconds
    nice -n 10 python -m bench.bench_plan_coverage --teachers 20000 --schools 600 --per-cell 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.policy import load_policy
from recommender.paths.coverage import plan_coverage, simulated_cells

POLICIES = ("national", "jiangsu", "chongqing", "sichuan")


def main() -> None:
    """Parse arguments, simulate, plan every sampled teacher under every policy, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="seconds-size run")
    parser.add_argument("--teachers", type=int, default=20_000)
    parser.add_argument("--schools", type=int, default=600)
    parser.add_argument("--per-cell", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.small:
        args.teachers, args.schools, args.per_cell = 6000, 200, 2
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    started = time.perf_counter()
    teachers, mastery = simulated_cells(
        args.teachers, args.schools, args.per_cell, args.seed, framework, catalog
    )
    simulated = time.perf_counter()
    table = plan_coverage(teachers, mastery, [load_policy(p) for p in POLICIES], catalog, framework)
    finished = time.perf_counter()
    plans = int(table["teachers"].sum())
    report = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        },
        "province": {"teachers": args.teachers, "schools": args.schools, "seed": args.seed},
        "per_cell": args.per_cell,
        "plans": plans,
        "simulate_seconds": round(simulated - started, 1),
        "plan_seconds": round(finished - simulated, 1),
        "ms_per_plan": round(1000 * (finished - simulated) / max(plans, 1), 1),
        "min_share": round(float(table["share"].min()), 4),
        "cells_below_99_percent": int((table["share"] < 0.99).sum()),
        "table": [
            {
                "policy": row.policy,
                "stage": row.stage,
                "environment": row.environment,
                "teachers": int(row.teachers),
                "compliant": int(row.compliant),
                "share": round(float(row.share), 4),
                **({"first_failure": row.first_failure} if row.first_failure else {}),
            }
            for row in table.itertuples(index=False)
        ],
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
