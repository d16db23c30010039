"""Benchmark: score N teachers' full questionnaires with the 30-point diagnostic model.

The model is fitted once on a simulated province (``--fit-teachers``); N teachers' complete
answer sheets (90 items) are then drawn from the fitted model in blocks and scored, so memory
stays bounded for N = 1,000,000. Only scoring is timed in ``score_seconds``; drawing the
answers is reported separately. Prints one JSON object.

    python -m bench.bench_diagnosis --small
    nice -n 10 python -m bench.bench_diagnosis --teachers 1000000
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits


def run(n_teachers: int, fit_teachers: int, block: int, seed: int) -> dict[str, object]:
    """Fit, then draw and score ``n_teachers`` answer sheets block by block."""
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank
    from recommender.diagnosis.model import DiagnosisModel
    from training_data.simulator import simulate_province

    framework = default_framework()
    bank = load_item_bank(framework=framework)
    catalog = load_catalog(framework=framework)
    started = time.perf_counter()
    province = simulate_province(fit_teachers, max(1, fit_teachers // 80), seed)
    model = DiagnosisModel(random_state=seed).fit(province, bank, framework, catalog)
    fit_seconds = time.perf_counter() - started
    diagnose_started = time.perf_counter()
    frame = model.diagnose(province)
    diagnose_seconds = time.perf_counter() - diagnose_started

    estimator = model.estimator_
    score_seconds = draw_seconds = 0.0
    mastered = 0.0
    for lo in range(0, n_teachers, block):
        size = min(block, n_teachers - lo)
        t0 = time.perf_counter()
        answers, _ = estimator.sample(size, random_state=seed + 1 + lo // block)
        codes = answers.astype(np.int8)
        t1 = time.perf_counter()
        probability = estimator.predict_proba_codes(codes)
        t2 = time.perf_counter()
        draw_seconds += t1 - t0
        score_seconds += t2 - t1
        mastered += float(probability.sum())
    return {
        "teachers_scored": n_teachers,
        "items_per_teacher": len(bank),
        "points": len(framework.codes),
        "score_seconds": round(score_seconds, 2),
        "teachers_per_second": round(n_teachers / max(score_seconds, 1e-9)),
        "draw_seconds": round(draw_seconds, 2),
        "mean_mastery_probability": round(mastered / (n_teachers * len(framework.codes)), 4),
        "fit_teachers": fit_teachers,
        "fit_seconds": round(fit_seconds, 2),
        "em_iterations": int(estimator.n_iter_),
        "diagnose_dataframe_rows": len(frame),
        "diagnose_dataframe_seconds": round(diagnose_seconds, 2),
        "block": block,
        "seed": seed,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run with one BLAS thread, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--fit-teachers", type=int, default=3000)
    parser.add_argument("--block", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="20,000 teachers, 1,000 to fit")
    args = parser.parse_args(argv)
    if args.small:
        args.teachers, args.fit_teachers = 20_000, 1000
    # Thin arrays: BLAS threading adds contention on a shared machine, not speed.
    with threadpool_limits(1):
        result = run(args.teachers, args.fit_teachers, args.block, args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
