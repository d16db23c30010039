"""How much can any model know about a point without direct evidence? A supervised ceiling.

Issue 14 §2 asks for AUC ≥ 0.75 on teacher × point cells without direct evidence (no grade, no
completion) when the province has no questionnaire. Before tuning a model to that target, this
benchmark measures what the observations hold: a gradient-boosted classifier is trained **on the
simulator's truth** of those cells (which no deployable model has), from features built from the
observations only (:mod:`recommender.diagnosis.cell_features`: the teacher's grades and records
on every point, colleagues' grades and completions on the point, the school's 选点, attributes),
and scored out of fold with folds grouped by school. Its AUC is an estimate of the ceiling from
above for every model that sees the same tables; its ECE shows what calibration costs when
labels of exactly these cells exist. Three feature sets separate where the information is:

* ``attributes`` — point, teacher attributes, school 选点 (what a prior can use);
* ``+colleagues`` — plus school and 教研组 aggregates on the point;
* ``all`` — plus the teacher's own grades and records on every point.

Usage::

    python bench/bench_diagnosis_ceiling.py --teachers 3000 --seeds 0,1 --families graph,latent

prints one JSON object per (family, seed). ``--small`` runs one small family, attribute features only (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from recommender.diagnosis.cell_features import cell_features
from recommender.diagnosis.evaluation import expected_calibration_error
from recommender.diagnosis.province_inputs import catalog_weights
from recommender.diagnosis.simulation_report import truth_matrix
from training_data.simulator import SimulatorConfig, simulate_province
from training_data.simulator.config import FAMILIES

_ATTRIBUTES = ("point", "cell_activity", "school_chose_point", "attr_")
_COLLEAGUES = ("school_", "group_")
FEATURE_SETS = ("attributes", "+colleagues", "all")


def _columns(names: list[str], feature_set: str) -> list[int]:
    keep = []
    for i, name in enumerate(names):
        is_attr = name.startswith(_ATTRIBUTES)
        is_coll = name.startswith(_COLLEAGUES)
        if (
            feature_set == "all"
            or (feature_set == "attributes" and is_attr)
            or (feature_set == "+colleagues" and (is_attr or is_coll))
        ):
            keep.append(i)
    return keep


def out_of_fold(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, point: np.ndarray, seed: int
) -> np.ndarray:
    """Out-of-fold probabilities of a gradient-boosted classifier, folds grouped by school."""
    proba = np.zeros(y.size)
    for train, test in GroupKFold(n_splits=3).split(x, y, groups):
        # columns constant in the training folds (a point nobody there was graded on) carry
        # nothing and break the binning; the point column (0) always stays
        varied = [0] + [
            j
            for j in range(1, x.shape[1])
            if np.unique(x[train, j][~np.isnan(x[train, j])]).size > 1
        ]
        model = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.06,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=20,
            categorical_features=[0] if point is not None else None,
            random_state=seed,
        )
        model.fit(x[np.ix_(train, varied)], y[train])
        proba[test] = model.predict_proba(x[np.ix_(test, varied)])[:, 1]
    return proba


def run(
    family: str,
    seed: int,
    n_teachers: int,
    sets: tuple[str, ...] = FEATURE_SETS,
    with_evidence: bool = False,
) -> dict[str, object]:
    """Ceiling figures for one simulated province (no questionnaire: grades + records)."""
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    bank = load_item_bank(framework=framework)
    started = time.perf_counter()
    province = simulate_province(
        n_teachers,
        max(1, round(n_teachers / 80)),
        seed,
        framework,
        catalog,
        bank,
        SimulatorConfig(family=family),
    )
    codes = list(framework.codes)
    features = cell_features(province, codes, catalog_weights(catalog))
    truth = truth_matrix(province, "truth_mastery", codes).reshape(-1)
    out: dict[str, object] = {"family": family, "seed": seed, "teachers": n_teachers}
    sides = [("without_evidence", ~features.direct)]
    if with_evidence:
        sides.append(("with_evidence", features.direct))
    for side, mask in sides:
        y = truth[mask]
        side_report: dict[str, object] = {"cells": int(mask.sum()), "mastery_rate": float(y.mean())}
        for feature_set in sets if side == "without_evidence" else ("all",):
            cols = _columns(features.names, feature_set)
            # "point" first so the classifier treats it as a category
            cols = sorted(cols, key=lambda c: features.names[c] != "point")
            x = features.matrix[mask][:, cols]
            p = out_of_fold(x, y, features.school[mask], x[:, 0], seed)
            side_report[feature_set] = {
                "auc": round(float(roc_auc_score(y, p)), 3),
                "ece": round(expected_calibration_error(y, p), 3),
            }
        out[side] = side_report
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=3000)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--sets", default=",".join(FEATURE_SETS), help="feature sets to score")
    parser.add_argument(
        "--with-evidence", action="store_true", help="also score cells with evidence"
    )
    parser.add_argument("--small", action="store_true", help="one family, 300 teachers")
    args = parser.parse_args()
    families = ["graph"] if args.small else args.families.split(",")
    teachers = 300 if args.small else args.teachers
    sets = ("attributes",) if args.small else tuple(args.sets.split(","))
    seeds = [0] if args.small else [int(s) for s in args.seeds.split(",")]
    with threadpool_limits(1):
        for family in families:
            for seed in seeds:
                report = run(family, seed, teachers, sets, args.with_evidence)
                print(json.dumps(report, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
