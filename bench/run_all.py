"""Run every benchmark at its small size, one after another, and print one JSON document.

``make bench`` calls this so a developer can check in a few minutes that every script still
runs; the figures in ``docs/benchmarks.md`` come from the full sizes given there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

BENCHMARKS = (
    "bench_simulator",
    "bench_import",
    "bench_store",
    "bench_diagnosis",
    "bench_diagnosis_ceiling",
    "bench_factor_ece",
    "bench_recommender",
    "bench_ranking_ceiling",
    "bench_train_scale",
    "bench_batch",
    "bench_serving_memory",
    "bench_paths",
    "bench_plan_coverage",
    "bench_assessment",
    "bench_service",
    "bench_split_compare",
    "bench_lists_serving",
    "bench_dashboards",
    "bench_dashboard",
    "bench_cli_startup",
)


def _last_json(text: str) -> object:
    """The last JSON value a script printed (scripts may print progress lines before it)."""
    start = text.rfind("\n{")
    candidate = text[start + 1 :] if start >= 0 else text
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        return {"unparsed_output_tail": text[-2000:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="Small sizes (the only mode).")
    parser.add_argument("--only", nargs="*", default=None, help="Run only these benchmarks.")
    args = parser.parse_args()
    results: dict[str, object] = {}
    failed = False
    for name in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", "--small"],
            capture_output=True,
            text=True,
            check=False,
        )
        results[name] = {
            "returncode": run.returncode,
            "seconds": round(time.perf_counter() - started, 1),
            "result": _last_json(run.stdout.strip()),
        }
        failed |= run.returncode != 0
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
