"""Diagnosis from each subset of inputs, scored separately with and without direct evidence.

For every input subset (questionnaire only, grades only, records only, grades + records, all)
the other tables are emptied, a fresh :class:`DiagnosisModel` is fitted on what is left, and the
result is compared with the simulator's truth at the moment the inputs describe: the start of
the cycle for the questionnaire alone (it is answered before the training), the end of the
cycle otherwise. Cells are split by direct evidence (an answered item measuring the point, a
grade or a completion on it). The learned latent-class model (``model``), the factor model and the baselines share the split:

* ``prior_only`` — the learned model's peer-group-and-school prior, no own evidence;
* ``factor`` — :class:`~recommender.diagnosis.factor_model.FactorMastery` (low-rank logistic,
  calibrated on held-out grades), with its own attributes-and-school prior as
  ``factor_prior_only``;
* ``graph_neighbour`` — the previous pipeline: the questionnaire model's posterior plus stated
  likelihood ratios of grades and completions, with 30 % of the neighbours' evidence spread
  along the hand-drawn graph (:mod:`recommender.diagnosis.fusion`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recommender.diagnosis.evaluation import expected_calibration_error
from recommender.diagnosis.fusion import evidence_log_odds, fuse
from recommender.diagnosis.model import DiagnosisModel
from recommender.diagnosis.province_inputs import completions_of, latest_moment

__all__ = ["SUBSETS", "evaluate_subsets", "split_metrics"]

#: Input subsets: name -> the tables kept.
SUBSETS: dict[str, tuple[str, ...]] = {
    "questionnaire": ("responses",),
    "grades": ("grades",),
    "records": ("events",),
    "grades_records": ("grades", "events"),
    "all": ("responses", "grades", "events"),
}


def split_metrics(
    truth: NDArray[np.float64], probability: NDArray[np.float64], direct: NDArray[np.bool_]
) -> dict[str, dict[str, float]]:
    """AUC and ECE on cells with and without direct evidence (NaN where a side is empty)."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, dict[str, float]] = {}
    for name, mask in (("with_evidence", direct), ("without_evidence", ~direct)):
        y, p = truth[mask], probability[mask]
        both = y.size > 0 and 0 < y.mean() < 1
        out[name] = {
            "cells": int(mask.sum()),
            "auc": float(roc_auc_score(y, p)) if both else float("nan"),
            "ece": expected_calibration_error(y, p) if y.size else float("nan"),
        }
    return out


def _graph_neighbour(model: DiagnosisModel, view: Any, result: dict[str, Any]) -> Any:
    """The previous pipeline's fused probability for ``view`` (stated weights, graph spread)."""
    fusion = model.fusion_
    completions = completions_of(view.events)
    moment = latest_moment(view.grades["assessed_at"], completions["timestamp"])
    index = {t: i for i, t in enumerate(result["teacher_id"])}
    log_odds, counts = evidence_log_odds(
        index, model.codes_, view.grades, completions, model.point_weights_, fusion, moment
    )
    fused = fuse(result["questionnaire_probability"], log_odds, counts, model.adjacency_, fusion)
    return fused["mastery_probability"]


def evaluate_subsets(
    province: Any,
    truth_initial: NDArray[np.float64],
    truth_final: NDArray[np.float64],
    item_bank: Any,
    framework: Any,
    catalog: Any,
    *,
    seed: int = 0,
    subsets: tuple[str, ...] = tuple(SUBSETS),
) -> dict[str, Any]:
    """Fit and score one model per input subset; see the module docstring."""
    from competency_model.province import empty_table

    report: dict[str, Any] = {}
    for name in subsets:
        kept = SUBSETS[name]
        view = dataclasses.replace(
            province,
            **{t: empty_table(t) for t in ("responses", "grades", "events") if t not in kept},
        )
        started = time.perf_counter()
        model = DiagnosisModel(structure="learned", random_state=seed).fit(
            view, item_bank, framework, catalog
        )
        fit_seconds = time.perf_counter() - started
        result = model.diagnose_arrays(view)
        truth = truth_initial if kept == ("responses",) else truth_final
        direct = result["evidence_count"] > 0
        learned = model.mastery_model_
        started = time.perf_counter()
        factor = DiagnosisModel(structure="factor", random_state=seed).fit(
            view, item_bank, framework, catalog
        )
        factor_seconds = time.perf_counter() - started
        scored = factor.diagnose_arrays(view)
        report[name] = {
            "truth": "initial" if kept == ("responses",) else "final",
            "model": split_metrics(truth, result["mastery_probability"], direct),
            "factor": split_metrics(truth, scored["mastery_probability"], direct),
            "factor_prior_only": split_metrics(truth, scored["prior_probability"], direct),
            "factor_learned": {
                kind: [round(float(v), 3) for v in factor.factor_model_.evidence_log_odds(kind)]
                for kind in [
                    *sorted(factor.factor_model_.emission_),
                    "activity",
                    "environment_gap",
                ]
            },
            # the tables the measured cells are scored with (learned on held-out grades)
            "factor_heldout": {
                kind: [
                    round(float(v), 3) for v in factor.measured_calibration_.evidence_log_odds(kind)
                ]
                for kind in sorted(factor.measured_calibration_.emission)
            },
            "factor_calibration": [
                round(factor.calibration_.slope, 3),
                round(factor.calibration_.offset, 3),
                bool(factor.calibrated_),
            ],
            "factor_fit_seconds": round(factor_seconds, 2),
            "prior_only": split_metrics(truth, result["prior_probability"], direct),
            "graph_neighbour": split_metrics(truth, _graph_neighbour(model, view, result), direct),
            "learned": {
                kind: [round(float(v), 3) for v in learned.evidence_log_odds(kind)]
                for kind in [*sorted(learned.emission_), "activity"]
            },
            "transition": [round(float(v), 3) for v in learned.transition_],
            "em_iterations": int(learned.n_iter_),
            "fit_seconds": round(fit_seconds, 2),
        }
    return report
