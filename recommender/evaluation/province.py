"""The province protocol: does the hybrid find what teachers did next, and does it close real gaps?

Steps (``evaluate_province``):

1. A share of teachers with history becomes the *cold-start slice*: all their events and grades
   are removed, so for the model they are new teachers with only a profile and a questionnaire.
2. For everyone else, :func:`~recommender.evaluation.splits.time_split` holds out each teacher's
   last completions (``target="complete"``, the default: what will she finish next) or her last
   started items (``target="enrol"``); everything from the first touch of a held-out item on,
   and grades assessed after it, are dropped, so nothing from the future leaks into training.
3. The diagnosis and the hybrid are fitted on what remains; the baselines (popularity, school
   and 教研组 popularity, recency-weighted popularity, school popularity + gap, item-kNN, pure
   ALS, BPR, content/gap-only) use the same events and rank the same eligible items (right
   kind, runnable in the school's environment, not already taken).
4. Metrics at ``k``: precision, recall, nDCG, MAP, catalog coverage and *gap-hit* — the share
   of the top ``k`` that develops a point the teacher truly had not mastered, read from the
   simulator's ``truth_mastery_initial`` table.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.catalog import Catalog, Kind
from competency_model.errors import DatasetError
from competency_model.framework import Framework
from competency_model.item_bank import ItemBank
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import Province
from recommender.evaluation.baselines import SimpleBaselines
from recommender.evaluation.metrics import catalog_coverage, gap_hit_at_k, ranking_report
from recommender.evaluation.report import ratios
from recommender.evaluation.splits import holdout_users, time_split
from recommender.ranking import CollaborativeFilter, HybridRecommender
from recommender.ranking.filters import kind_mask, unmastered_mask

__all__ = ["CandidateRanker", "evaluate_province", "evaluate_recommend"]

Diagnose = Callable[[Any], pd.DataFrame]


class CandidateRanker(Protocol):
    """Scores teachers × items on the protocol's own candidates (an oracle, say); higher first."""

    def warm(
        self, teacher_ids: Sequence[str], item_ids: NDArray[np.str_], candidates: NDArray[np.bool_]
    ) -> NDArray[np.float64]: ...

    def cold(
        self, teacher_ids: Sequence[str], item_ids: NDArray[np.str_], candidates: NDArray[np.bool_]
    ) -> NDArray[np.float64]: ...


def _top_k(
    scores: np.ndarray, allowed: np.ndarray, k: int, item_ids: np.ndarray
) -> list[list[str]]:
    scores = np.where(allowed, scores, -np.inf)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [
        [str(item_ids[c]) for c in row if np.isfinite(scores[i, c])] for i, row in enumerate(top)
    ]


def _report(
    ranked: list[list[str]],
    relevant: list[set[str]],
    developing: list[set[str]],
    n_items: int,
    k: int,
) -> dict[str, float]:
    report = ranking_report(ranked, relevant, k)
    report[f"coverage@{k}"] = catalog_coverage(ranked, n_items, k)
    report[f"gap_hit@{k}"] = gap_hit_at_k(ranked, developing, k)
    return {name: round(value, 4) for name, value in report.items()}


def evaluate_province(
    province: Province,
    catalog: Catalog,
    framework: Framework,
    diagnose: Diagnose,
    k: int = 10,
    kind: Kind = "course",
    holdout_items: int = 2,
    cold_share: float = 0.1,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    target: Literal["complete", "enrol"] = "complete",
    progress: ProgressReporter = NO_PROGRESS,
    extra_rankers: Mapping[str, CandidateRanker] | None = None,
) -> dict[str, Any]:
    """Run the protocol on one province (with truth tables) and return the metrics document.

    Parameters
    ----------
    province
        A :class:`~competency_model.province.Province` (or any dataclass with the same tables)
        including ``truth_mastery_initial``.
    diagnose
        Maps a province (restricted to training data) to the diagnosis DataFrame
        (teacher_id, point, mastery_probability, …).
    params
        Hyperparameters for :class:`HybridRecommender`.
    target
        What counts as relevant: the items a teacher completed (held out: her last
        completions) or the items she started (held out: her last enrolments).
    progress
        Hears the stages: diagnosis, the recommender's fit, scoring, baselines, cold start.
    extra_rankers
        More rankers scored on exactly the baselines' candidates and truth, warm and cold, in
        a block ``extra_rankers`` (``recommender.evaluation.oracle``'s ceiling).
    """
    if target not in ("complete", "enrol"):
        raise ValueError(f"target={target!r}; use 'complete' or 'enrol'")
    started = time.perf_counter()
    events = province.events
    active = pd.Index(events["teacher_id"].unique())
    cold = set(holdout_users(np.sort(active.to_numpy()), cold_share, seed).tolist())
    is_cold = events["teacher_id"].isin(cold)
    train_events, test_pairs = time_split(
        events[~is_cold],
        holdout_items=holdout_items,
        event="complete" if target == "complete" else None,
    )
    cutoff = test_pairs.groupby("teacher_id")["timestamp"].min()
    grades = province.grades
    grade_cutoff = grades["teacher_id"].map(cutoff)
    keep_grade = ~grades["teacher_id"].isin(cold) & (
        grade_cutoff.isna() | (grades["assessed_at"] < grade_cutoff)
    )
    train = dataclasses.replace(province, events=train_events, grades=grades[keep_grade.to_numpy()])
    progress.stage(f"诊断 diagnosing the training view ({len(train.teachers)} teachers)")
    mastery = diagnose(train)
    model = HybridRecommender(random_state=seed, **(params or {})).fit(
        train,
        mastery,
        catalog,
        framework,
        rediagnose=getattr(diagnose, "rediagnose", None),
        progress=progress,
    )
    progress.stage("评估 scoring warm teachers")
    items = model.items_
    n_items = int(kind_mask(items, kind, model.rules_).sum())
    of_kind = set(items.item_ids[kind_mask(items, kind, model.rules_)].tolist())
    if province.truth_mastery_initial is None:
        raise DatasetError(
            "evaluate_recommend needs a simulated province with truth_mastery_initial; "
            "generate one with `nengli generate`"
        )
    truth = province.truth_mastery_initial.set_index("teacher_id").reindex(
        columns=model.points_.codes.tolist()
    )
    develops = items.point_weights > 0

    def developing(teacher_ids: list[str]) -> list[set[str]]:
        gaps = truth.reindex(teacher_ids).to_numpy() == 0
        hit = (gaps.astype(np.int32) @ develops.T.astype(np.int32)) > 0
        return [
            set(items.item_ids[row & np.isin(items.item_ids, list(of_kind))].tolist())
            for row in hit
        ]

    # ---- warm teachers
    test = test_pairs[test_pairs["item_id"].isin(of_kind)]
    relevant_by = test.groupby("teacher_id")["item_id"].agg(set)
    warm_ids = relevant_by.index.astype(str).tolist()
    rows = np.array([model.row_of(t) for t in warm_ids], dtype=np.int64)
    relevant = [set(s) for s in relevant_by]
    eligible = model.eligible(rows) & kind_mask(items, kind, model.rules_)[None, :]
    taken = np.asarray(model.took_[rows].todense()) > 0
    base_allowed = eligible & ~taken
    filtered_allowed = base_allowed & _unmastered(model, rows)
    hybrid_allowed = filtered_allowed if model.mastered_filter_applies() else base_allowed
    scores, features = model.score_teachers(rows)
    results: dict[str, Any] = {"hybrid": None, "baselines": {}, "cold_start": {}}
    gap_truth = developing(warm_ids)
    results["hybrid"] = _report(
        _top_k(scores, hybrid_allowed, k, items.item_ids), relevant, gap_truth, n_items, k
    )
    results["ablations"] = {
        "hybrid_without_mastered_filter": _report(
            _top_k(scores, base_allowed, k, items.item_ids), relevant, gap_truth, n_items, k
        ),
        "hybrid_with_mastered_filter": _report(
            _top_k(scores, filtered_allowed, k, items.item_ids), relevant, gap_truth, n_items, k
        ),
    }
    # every candidate of the fit's model selection, on the same held-out truth: the linear
    # blend against LambdaRank, family by family
    for name, candidate in model.ranker_candidates_.items():
        if name.startswith("cold_"):
            continue
        results["ablations"][f"ranker_{name}"] = _report(
            _top_k(candidate.decision(features), hybrid_allowed, k, items.item_ids),
            relevant,
            gap_truth,
            n_items,
            k,
        )
    progress.stage("基线 fitting and scoring the baselines")
    popularity = np.tile(model.popularity_scores(), (len(rows), 1))
    confidence = model.als_.user_items_
    baselines = {
        "popularity": popularity,
        "item_knn": model.knn_.score(rows),
        "als": model.als_.score(rows),
        "content_gap": features["expected_gain"],
    }
    bpr = CollaborativeFilter("bpr", factors=model.factors, iterations=100, random_state=seed).fit(
        confidence
    )
    baselines["bpr"] = bpr.score(rows)
    simple = SimpleBaselines(train_events, province.teachers, items.item_ids)
    cutoff_of = test_pairs.groupby("teacher_id")["timestamp"].min()
    baselines.update(
        simple.scores(
            warm_ids,
            cutoff_of.reindex(warm_ids).to_numpy(),
            model.mastery_[rows],
            items.point_weights,
        )
    )
    for name, baseline in baselines.items():
        # Ties (e.g. equal gains) are broken by popularity so no baseline is handicapped by
        # catalog order.
        tie_break = 1e-6 * popularity / max(float(popularity.max()), 1.0)
        ranked = _top_k(
            np.asarray(baseline, dtype=np.float64) + tie_break, base_allowed, k, items.item_ids
        )
        results["baselines"][name] = _report(ranked, relevant, gap_truth, n_items, k)
    extra = dict(extra_rankers or {})
    if extra:
        results["extra_rankers"] = {
            name: {
                "warm": _report(
                    _top_k(
                        ranker.warm(warm_ids, items.item_ids, base_allowed),
                        base_allowed,
                        k,
                        items.item_ids,
                    ),
                    relevant,
                    gap_truth,
                    n_items,
                    k,
                )
            }
            for name, ranker in extra.items()
        }
    # each hybrid signal ranked alone on the same items: which signal carries the list, next
    # to the weight the ranker gave it (``ranker_weights``)
    results["signals_alone"] = {
        name: _report(
            _top_k(
                np.asarray(value, dtype=np.float64) + tie_break, base_allowed, k, items.item_ids
            ),
            relevant,
            gap_truth,
            n_items,
            k,
        )[f"ndcg@{k}"]
        for name, value in features.items()
        if np.shape(value) == scores.shape
    }

    # ---- cold-start teachers: their whole history is the truth
    progress.stage("冷启动 scoring cold-start teachers")
    cold_pairs = events[is_cold & events["item_id"].isin(of_kind)]
    if target == "complete":
        cold_pairs = cold_pairs[cold_pairs["event"] == "complete"]
    cold_by = cold_pairs.groupby("teacher_id")["item_id"].agg(set)
    cold_ids = cold_by.index.astype(str).tolist()
    cold_rows = np.array([model.row_of(t) for t in cold_ids], dtype=np.int64)
    t = model.teachers_
    cold_scores, cold_features = model.score_profiles(
        t.school_row[cold_rows],
        t.group_row[cold_rows],
        t.stages[cold_rows],
        t.subjects[cold_rows],
        model.mastery_[cold_rows],
    )
    cold_allowed = model.eligible(cold_rows) & kind_mask(items, kind, model.rules_)[None, :]
    cold_truth = developing(cold_ids)
    cold_relevant = [set(s) for s in cold_by]
    cold_hybrid_allowed = (
        cold_allowed & _unmastered(model, cold_rows, cold=True)
        if model.mastered_filter_applies()
        else cold_allowed
    )
    results["cold_start"]["hybrid"] = _report(
        _top_k(cold_scores, cold_hybrid_allowed, k, items.item_ids),
        cold_relevant,
        cold_truth,
        n_items,
        k,
    )
    results["cold_start_ablations"] = {
        f"ranker_{name[5:]}": _report(
            _top_k(candidate.decision(cold_features), cold_hybrid_allowed, k, items.item_ids),
            cold_relevant,
            cold_truth,
            n_items,
            k,
        )
        for name, candidate in model.ranker_candidates_.items()
        if name.startswith("cold_")
    }
    results["cold_start"]["popularity"] = _report(
        _top_k(
            np.tile(model.popularity_scores(), (len(cold_rows), 1)), cold_allowed, k, items.item_ids
        ),
        cold_relevant,
        cold_truth,
        n_items,
        k,
    )
    cold_now = events[is_cold].groupby("teacher_id")["timestamp"].min().reindex(cold_ids)
    cold_simple = simple.scores(
        cold_ids, cold_now.to_numpy(), model.mastery_[cold_rows], items.point_weights
    )
    cold_popularity = np.tile(model.popularity_scores(), (len(cold_rows), 1))
    cold_tie_break = 1e-6 * cold_popularity / max(float(cold_popularity.max()), 1.0)
    # a separate block, so ``cold_start`` keeps its documented pair (hybrid, popularity)
    results["cold_start_baselines"] = {"popularity": results["cold_start"]["popularity"]}
    for name in SimpleBaselines.NAMES:
        results["cold_start_baselines"][name] = _report(
            _top_k(cold_simple[name] + cold_tie_break, cold_allowed, k, items.item_ids),
            cold_relevant,
            cold_truth,
            n_items,
            k,
        )
    for name, ranker in extra.items():
        results["extra_rankers"][name]["cold"] = _report(
            _top_k(
                ranker.cold(cold_ids, items.item_ids, cold_allowed), cold_allowed, k, items.item_ids
            ),
            cold_relevant,
            cold_truth,
            n_items,
            k,
        )
    results["ratios"] = ratios(results, k)
    # what the fit's own model selection saw (its inner holdout: each teacher's last
    # completions in the training events) and chose
    results["ranker_self_check"] = dict(getattr(model, "validation_metrics_", {}))
    results["ranker_weights"] = {
        "warm": model.ranker_.weights(),
        "cold": model.cold_ranker_.weights(),
    }
    results["protocol"] = {
        "k": k,
        "kind": kind,
        "holdout_items": holdout_items,
        "cold_share": cold_share,
        "seed": seed,
        "target": target,
        "teachers": int(len(province.teachers)),
        "events": int(len(events)),
        "warm_test_teachers": len(warm_ids),
        "cold_test_teachers": len(cold_ids),
        "catalog_items_of_kind": n_items,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return results


def _unmastered(model: HybridRecommender, rows: np.ndarray, cold: bool = False) -> np.ndarray:
    active = (
        model.active_points(school_rows=model.teachers_.school_row[rows])
        if cold
        else model.active_points(rows)
    )
    return unmastered_mask(model.items_, model.mastery_[rows], model.mastered_threshold, active)


def default_diagnose(item_bank: ItemBank, framework: Framework, catalog: Catalog) -> Diagnose:
    """The project's :class:`~recommender.diagnosis.DiagnosisModel`, fitted on the training view."""
    from recommender.diagnosis.model import DiagnosisModel

    fitted: dict[str, DiagnosisModel] = {}

    def diagnose(province: Province) -> pd.DataFrame:
        model = DiagnosisModel().fit(province, item_bank, framework, catalog)
        fitted["model"] = model
        return model.diagnose(province)

    def rediagnose(view: Any) -> pd.DataFrame:
        # the model fitted on the training view, applied to the events before the fit's own
        # holdout (see HybridRecommender.fit)
        return fitted["model"].diagnose(view)

    diagnose.rediagnose = rediagnose  # type: ignore[attr-defined]
    return diagnose


def evaluate_recommend(
    n_teachers: int,
    seed: int,
    n_schools: int | None = None,
    family: str = "graph",
    progress: ProgressReporter = NO_PROGRESS,
    oracle: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Simulate a province of ``family`` and run :func:`evaluate_province` on it.

    This is ``nengli evaluate recommend --family NAME``; the result carries ``family``. With
    ``oracle`` the same province is simulated with its choice truth and the oracle ceiling
    (:mod:`recommender.evaluation.oracle`) is scored next to the baselines.
    """
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank
    from recommender.evaluation.oracle import oracle_rankers
    from training_data.simulator import SimulatorConfig, simulate_province
    from training_data.simulator.engine import simulate_province_with_choice_truth

    framework = default_framework()
    catalog = load_catalog(framework=framework)
    item_bank = load_item_bank(framework=framework)
    schools = n_schools or max(2, n_teachers // 60)
    progress.stage(f"模拟 simulating {n_teachers} teachers ({family})")
    arguments: dict[str, Any] = {
        "n_teachers": n_teachers,
        "n_schools": schools,
        "seed": seed,
        "framework": framework,
        "catalog": catalog,
        "item_bank": item_bank,
        "config": SimulatorConfig(family=family),
    }
    extra = None
    if oracle:  # the same tables, plus what the oracle ranks by
        province, truth = simulate_province_with_choice_truth(**arguments)
        extra = oracle_rankers(truth, options.get("holdout_items", 2), random_state=seed)
    else:
        province = simulate_province(**arguments)
    result = evaluate_province(
        province,
        catalog,
        framework,
        default_diagnose(item_bank, framework, catalog),
        seed=seed,
        progress=progress,
        extra_rankers=extra,
        **options,
    )
    return {"family": family, **result}
