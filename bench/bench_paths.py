"""Benchmark learning paths and school plans; prints one JSON document.

* ``path``: latency of :func:`build_learning_path` (MILP and greedy) on the shipped catalog for
  random teachers of a simulated province, per policy, plus the greedy's objective gap to the
  MILP optimum on the same real-size problems;
* ``gap``: MILP and greedy against brute-force enumeration on small random instances;
* ``school_plans``: :func:`plan_schools` for every school of a simulated province (mastery =
  the simulator's initial truth, so the diagnosis cost is not part of this figure).

Usage::

    python -m bench.bench_paths --small                          # seconds
    nice -n 10 python -m bench.bench_paths --schools 10000 --teachers 250000
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from competency_model.catalog import load_catalog
from competency_model.errors import InfeasibleError
from competency_model.framework import default_framework
from competency_model.graph import CompetencyGraph
from competency_model.policy import load_policy
from recommender.paths import build_learning_path, prepare_path, solve_greedy, solve_milp
from recommender.paths.feasibility import precheck
from recommender.school_planning import mastery_matrix, plan_schools
from training_data.simulator import iter_chunks, prepare


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values) * 1000.0
    return {
        "median_ms": round(float(np.median(array)), 2),
        "p95_ms": round(float(np.percentile(array, 95)), 2),
        "max_ms": round(float(array.max()), 2),
        "n": len(values),
    }


def bench_gap(seeds: int = 30, n_items: int = 14) -> dict[str, object]:
    """MILP and greedy vs brute force on random instances with ``n_items`` candidates."""
    from recommender.paths.optimiser import solve_exact
    from recommender.paths.synthetic import random_problem

    milp_gaps, greedy_gaps = [], []
    for seed in range(seeds):
        problem = random_problem(seed, n_items)
        exact = solve_exact(problem)
        milp_gaps.append((exact.objective - solve_milp(problem).objective) / exact.objective)
        greedy_gaps.append((exact.objective - solve_greedy(problem).objective) / exact.objective)
    return {
        "instances": seeds,
        "n_items": n_items,
        "milp_max_rel_gap": float(np.max(milp_gaps)),
        "greedy_mean_rel_gap": round(float(np.mean(greedy_gaps)), 4),
        "greedy_max_rel_gap": round(float(np.max(greedy_gaps)), 4),
    }


def bench_paths(n_teachers: int, seed: int) -> dict[str, object]:
    """Latency per path and greedy-vs-MILP gap on real-size problems."""
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    graph = CompetencyGraph(framework)
    rng = np.random.default_rng(seed)
    result: dict[str, object] = {}
    for name in ("national", "jiangsu", "chongqing"):
        policy = load_policy(name)
        times: dict[str, list[float]] = {"milp": [], "greedy": []}
        cpu: dict[str, list[float]] = {"milp": [], "greedy": []}
        gaps, infeasible, items = [], 0, []
        for _ in range(n_teachers):
            mastery = {c: float(rng.beta(2, 2)) for c in framework.codes}
            environment = str(rng.choice(["multimedia", "blended", "smart"]))
            stage = str(rng.choice(["小学", "初中", "高中"]))
            for method in ("milp", "greedy"):
                started, cpu_started = time.perf_counter(), time.process_time()
                try:
                    plan = build_learning_path(
                        "T",
                        mastery,
                        environment,
                        policy,
                        catalog,
                        framework,
                        stage=stage,
                        graph=graph,
                        method=method,
                    )  # type: ignore[arg-type]
                except InfeasibleError:
                    infeasible += 1
                    continue
                times[method].append(time.perf_counter() - started)
                cpu[method].append(time.process_time() - cpu_started)
                if method == "milp":
                    items.append(len(plan.items))
                    prepared = prepare_path(
                        mastery,
                        environment,
                        policy,
                        catalog,
                        framework,
                        stage=stage,
                        graph=graph,
                        n_targets=len(plan.targets),
                    )
                    precheck(prepared.problem, policy, environment)
                    best = solve_milp(prepared.problem)
                    greedy = solve_greedy(prepared.problem)
                    if best.feasible and greedy.feasible and best.objective > 0:
                        gaps.append((best.objective - greedy.objective) / best.objective)
        result[name] = {
            "milp_wall": _percentiles(times["milp"]),
            "milp_cpu": _percentiles(cpu["milp"]),
            "greedy_wall": _percentiles(times["greedy"]),
            "greedy_cpu": _percentiles(cpu["greedy"]),
            "infeasible": infeasible,
            "mean_items": round(float(np.mean(items)), 1),
            "greedy_vs_milp_mean_rel_gap": round(float(np.mean(gaps)), 4) if gaps else None,
            "greedy_vs_milp_max_rel_gap": round(float(np.max(gaps)), 4) if gaps else None,
        }
    return result


def bench_school_plans(n_schools: int, n_teachers: int, seed: int) -> dict[str, object]:
    """Simulate (timed apart) then plan every school of the province."""
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    started = time.perf_counter()
    context = prepare(
        n_teachers=n_teachers, n_schools=n_schools, seed=seed, framework=framework, catalog=catalog
    )
    teachers, truth = [], []
    for chunk in iter_chunks(context):
        teachers.append(chunk.teachers)
        truth.append(chunk.truth_mastery_initial)
    schools = context.schools
    teacher_table = pd.concat(teachers, ignore_index=True)
    mastery = mastery_matrix(pd.concat(truth, ignore_index=True), framework.codes)
    simulated, cpu_started = time.perf_counter(), time.process_time()
    plans = plan_schools(
        schools, teacher_table, mastery, load_policy("jiangsu"), catalog, framework
    )
    finished, cpu_used = time.perf_counter(), time.process_time() - cpu_started
    covered_all = sum(all(p.dimension_coverage.values()) for p in plans)
    return {
        "schools": len(schools),
        "teachers": len(teacher_table),
        "plans": len(plans),
        "simulate_seconds": round(simulated - started, 1),
        "plan_seconds": round(finished - simulated, 1),
        "plan_cpu_seconds": round(cpu_used, 1),
        "ms_per_school": round(1000 * (finished - simulated) / max(len(plans), 1), 2),
        "plans_covering_four_dimensions": covered_all,
    }


def main() -> None:
    """Parse arguments, run the three benchmarks, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="seconds-size run")
    parser.add_argument("--path-teachers", type=int, default=40)
    parser.add_argument("--schools", type=int, default=10_000)
    parser.add_argument("--teachers", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only",
        choices=["path", "gap", "school_plans"],
        action="append",
        help="run only these parts (repeatable); default all",
    )
    args = parser.parse_args()
    if args.small:
        args.path_teachers, args.schools, args.teachers = 5, 60, 1_500
    parts = set(args.only or ["path", "gap", "school_plans"])
    report: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": 2,
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        },
    }
    if "path" in parts:
        report["path"] = bench_paths(args.path_teachers, args.seed)
    if "gap" in parts:
        report["gap"] = bench_gap(10 if args.small else 30)
    if "school_plans" in parts:
        report["school_plans"] = bench_school_plans(args.schools, args.teachers, args.seed)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
