"""Factor model alone on grades + records: AUC / ECE with and without direct evidence.

Why: ``nengli evaluate diagnosis --subsets grades_records`` also fits the latent-class model,
which takes minutes; this fits only ``DiagnosisModel(structure="factor")`` on the same view
of the same simulated province (seconds), so variants of the factor fit can be compared on
every family. Truth is read only to score, never by the fit.

    python bench/bench_factor_ece.py --teachers 3000 --seed 0 --family graph [--naive]
        [--options '{"prior_strength": 1000, "course_ratio": 0.5}']

``--naive`` scores with the plain MAP ``η`` instead of the leave-one-out one; ``--no-heldout``
keeps the model's own emission tables for measured cells (no held-out tables, the state
before 2026-12-03); ``--learn-course`` scores course-only cells with the course weight learned
on hidden grades (``fit_calibrated(learn_course_weight=True)``, off by default); ``--options`` are passed to
:class:`~recommender.diagnosis.factor_model.FactorMastery`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits


def run(
    teachers: int,
    seed: int,
    family: str,
    naive: bool,
    options: dict[str, Any],
    heldout: bool = True,
    course: bool = False,
) -> dict[str, Any]:
    """Simulate, fit the factor model on grades + records, score against the final truth."""
    import recommender.diagnosis.factor_fit as factor_fit
    import recommender.diagnosis.model as model_module
    from competency_model.province import empty_table
    from recommender.diagnosis.evaluation import expected_calibration_error
    from recommender.diagnosis.model import DiagnosisModel
    from recommender.diagnosis.simulation_report import _evaluate
    from recommender.diagnosis.subset_report import split_metrics

    province, _, final, bank, framework, catalog = _evaluate(
        teachers, seed, (), 0.0, None, None, None, family, True
    )["_inputs"]
    view = dataclasses.replace(province, responses=empty_table("responses"))
    factor_fit.FactorMastery = functools.partial(factor_fit.FactorMastery, **options)  # type: ignore[misc,assignment]
    model_module.predict_calibrated = functools.partial(  # type: ignore[assignment]
        factor_fit.predict_calibrated, leave_one_out=not naive
    )
    if not heldout or course:
        model_module.fit_calibrated = functools.partial(  # type: ignore[assignment]
            factor_fit.fit_calibrated, held_out_emissions=heldout, learn_course_weight=course
        )
    model = DiagnosisModel(structure="factor", random_state=seed).fit(
        view, bank, framework, catalog
    )
    scored = model.diagnose_arrays(view)
    p, direct = scored["mastery_probability"], scored["evidence_count"] > 0
    rows = {t: i for i, t in enumerate(scored["teacher_id"])}
    columns = {c: j for j, c in enumerate(model.codes_)}
    graded = np.zeros_like(direct)
    r = view.grades["teacher_id"].astype(str).map(rows)
    c = view.grades["point"].map(columns)
    ok = (r.notna() & c.notna()).to_numpy()
    graded[r[ok].astype(int), c[ok].astype(int)] = True
    report: dict[str, Any] = split_metrics(final, p, direct)
    for name, mask in (("graded", graded & direct), ("evidence_without_grade", direct & ~graded)):
        report[name] = {
            "cells": int(mask.sum()),
            "model_mean": round(float(p[mask].mean()), 3),
            "true_mean": round(float(final[mask].mean()), 3),
            "ece": round(expected_calibration_error(final[mask], p[mask]), 3),
        }
    report["calibration_slope"] = round(model.calibration_.slope, 3)
    report["heldout_emission"] = {
        kind: np.round(table, 3).tolist()
        for kind, table in model.measured_calibration_.emission.items()
    }
    report["model_emission"] = {
        kind: np.round(table, 3).tolist() for kind, table in model.factor_model_.emission_.items()
    }
    learned = model.measured_calibration_.course
    report["course_weight"] = (
        None
        if learned is None
        else {
            "log_odds": round(learned.log_odds, 3),
            "sd": round(learned.sd, 3),
            "cells": learned.cells,
        }
    )
    report["activity_log_odds"] = [
        round(float(v), 3) for v in model.factor_model_.evidence_log_odds("activity")
    ]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teachers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", default="graph")
    parser.add_argument("--naive", action="store_true")
    parser.add_argument("--options", default="{}")
    parser.add_argument("--no-heldout", action="store_true")
    parser.add_argument("--learn-course", action="store_true")
    parser.add_argument("--small", action="store_true", help="400 teachers (seconds).")
    args = parser.parse_args()
    if args.small:
        args.teachers = 400
    with threadpool_limits(1):
        report = run(
            args.teachers,
            args.seed,
            args.family,
            args.naive,
            json.loads(args.options),
            heldout=not args.no_heldout,
            course=args.learn_course,
        )
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
