"""End-to-end check on a simulated province: the model and its baselines against ground truth.

Used by ``nengli evaluate diagnosis`` and docs/diagnosis.md. Mastery truth at questionnaire
time (``truth_mastery_initial``) is what the questionnaire measures; the fused diagnosis (with
grades and completed learning, which happen later) is compared with the final truth
(``truth_mastery``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from competency_model.catalog import Catalog
from competency_model.framework import Framework, default_framework
from competency_model.item_bank import ItemBank, load_item_bank
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import Province
from recommender.diagnosis.adaptive import simulate_adaptive
from recommender.diagnosis.evaluation import mastery_metrics, sum_score_mastery
from recommender.diagnosis.model import DiagnosisModel

__all__ = ["evaluate_on_simulation", "truth_matrix"]


def truth_matrix(province: Province, table: str, codes: list[str]) -> np.ndarray:
    """Truth table (teachers x points) in ``province.teachers`` order."""
    frame = getattr(province, table).set_index("teacher_id")
    return frame.loc[province.teachers["teacher_id"], codes].to_numpy(dtype=np.float64)


def evaluate_on_simulation(
    n_teachers: int,
    seed: int,
    *,
    adaptive_lengths: tuple[int, ...] = (15, 30),
    adaptive_sd_threshold: float = 0.0,
    framework: Framework | None = None,
    item_bank: ItemBank | None = None,
    catalog: Catalog | None = None,
    family: str | None = None,
    subsets: tuple[str, ...] = (),
    subsets_only: bool = False,
    progress: ProgressReporter = NO_PROGRESS,
) -> dict[str, Any]:
    """Simulate, fit on the questionnaire, and score the model, baselines and adaptive runs.

    Parameters
    ----------
    n_teachers, seed
        Province size and the single seed (simulation and fitting).
    adaptive_lengths
        Maximum questionnaire lengths to replay adaptively.
    adaptive_sd_threshold
        Early-stopping SD for the adaptive replay (0 = always ask the full length).
    family
        Simulator family (``SimulatorConfig.family``); None = the simulator's default.
    subsets
        Input subsets to score with the learned model (``subset_report.SUBSETS`` names);
        reported under ``"subsets"``.
    subsets_only
        Skip the full-questionnaire comparison (model, baselines, adaptive replay) and report
        only ``"subsets"`` and ``"setup"`` (the questionnaire model's fit is the slow part).
    progress
        Hears the stages: simulation, the fits, the adaptive replays, the input subsets.

    Returns
    -------
    dict
        ``{"model", "baselines": {"sum_score", "dina_uniform_prior"}, "adaptive": {"15", ...},
        "fused_vs_final", "questionnaire_vs_final", "setup"}``; every configuration has
        ``accuracy``, ``auc`` and ``ece`` (plus mean per-point AUC and Brier score).
    """
    # The arrays are thin (teachers x 90 items); BLAS threads add contention, not speed.
    with threadpool_limits(1):
        report = _evaluate(
            n_teachers,
            seed,
            adaptive_lengths,
            adaptive_sd_threshold,
            framework,
            item_bank,
            catalog,
            family,
            subsets_only,
            progress,
        )
        if subsets:
            from recommender.diagnosis.subset_report import evaluate_subsets

            progress.stage(f"输入子集 scoring input subsets ({', '.join(subsets)})")
            province, initial, final, bank, fw, cat = report.pop("_inputs")
            report["subsets"] = evaluate_subsets(
                province, initial, final, bank, fw, cat, seed=seed, subsets=subsets
            )
        report.pop("_inputs", None)
        return report


def _evaluate(
    n_teachers: int,
    seed: int,
    adaptive_lengths: tuple[int, ...],
    adaptive_sd_threshold: float,
    framework: Framework | None,
    item_bank: ItemBank | None,
    catalog: Catalog | None,
    family: str | None,
    subsets_only: bool = False,
    progress: ProgressReporter = NO_PROGRESS,
) -> dict[str, Any]:
    from competency_model.catalog import load_catalog
    from training_data.simulator import SimulatorConfig, simulate_province

    framework = framework or default_framework()
    item_bank = item_bank or load_item_bank(framework=framework)
    catalog = catalog or load_catalog(framework=framework)
    n_schools = max(1, round(n_teachers / 80))
    started = time.perf_counter()
    # the family is a simulator parameter; passing it is all this report needs to do
    config = SimulatorConfig(family=family) if family else SimulatorConfig()
    progress.stage(f"模拟 simulating {n_teachers} teachers")
    province = simulate_province(n_teachers, n_schools, seed, framework, catalog, item_bank, config)
    codes = framework.codes
    initial = truth_matrix(province, "truth_mastery_initial", codes)
    final = truth_matrix(province, "truth_mastery", codes)
    if subsets_only:
        return {
            "_inputs": (province, initial, final, item_bank, framework, catalog),
            "setup": {
                "family": family or "default",
                "teachers": n_teachers,
                "schools": n_schools,
                "seed": seed,
                "mastery_rate_final": float(final.mean()),
            },
        }

    progress.stage("诊断模型 fitting the diagnosis model")
    fit_started = time.perf_counter()
    model = DiagnosisModel(random_state=seed).fit(province, item_bank, framework, catalog)
    fit_seconds = time.perf_counter() - fit_started
    fused = model.diagnose_arrays(province)
    progress.stage("基线 fitting the uniform-prior baseline")
    uniform = DiagnosisModel(prior="uniform", random_state=seed).fit(
        province, item_bank, framework, catalog
    )
    response_codes = model.encode(province.responses, province.teachers["teacher_id"])
    groups = model.peer_groups(province)
    adaptive: dict[str, Any] = {}
    progress.stage("自适应 replaying adaptive questionnaires", total=len(adaptive_lengths))
    for length in adaptive_lengths:
        progress.advance()
        mastery, asked = simulate_adaptive(
            model.estimator_,
            response_codes,
            max_items=length,
            sd_threshold=adaptive_sd_threshold,
            groups=groups,
        )
        adaptive[str(length)] = {
            **mastery_metrics(initial, mastery),
            "mean_items_asked": float(asked.mean()),
        }
    answered = (response_codes >= 0).sum(axis=1)
    return {
        "model": mastery_metrics(initial, fused["questionnaire_probability"]),
        "baselines": {
            "sum_score": mastery_metrics(
                initial, sum_score_mastery(response_codes, model.q_matrix_, model.n_categories_)
            ),
            "dina_uniform_prior": mastery_metrics(initial, uniform.questionnaire_proba(province)),
        },
        "adaptive": adaptive,
        "questionnaire_vs_final": mastery_metrics(final, fused["questionnaire_probability"]),
        "fused_vs_final": mastery_metrics(final, fused["mastery_probability"]),
        "_inputs": (province, initial, final, item_bank, framework, catalog),
        "setup": {
            "family": family or "default",
            "teachers": n_teachers,
            "schools": n_schools,
            "seed": seed,
            "items_in_bank": len(item_bank),
            "mean_items_answered": float(answered.mean()),
            "mastery_rate_initial": float(initial.mean()),
            "em_iterations": int(model.estimator_.n_iter_),
            "fit_seconds": round(fit_seconds, 2),
            "total_seconds": round(time.perf_counter() - started, 2),
        },
    }
