"""The fit's model selection: what it compares, what it reports, what it keeps."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.bundle import load_recommender, save_recommender
from recommender.ranking import LambdaRanker
from recommender.ranking.selection import BASELINE_SIGNALS, ndcg_rows


def test_selection_reports_candidates_baselines_and_its_reason(fitted_hybrid):
    report = fitted_hybrid.validation_metrics_
    assert set(report["warm_ndcg@10"]) == {"linear_legacy", "linear", "lambdarank", "baseline"}
    assert set(report["baselines_ndcg@10"]) == set(BASELINE_SIGNALS)
    # the fallback candidate is the best baseline of the check, under its own figure
    best_baseline = report["fallback_baseline"]
    assert report["warm_ndcg@10"]["baseline"] == max(report["baselines_ndcg@10"].values())
    assert report["baselines_ndcg@10"][best_baseline] == report["warm_ndcg@10"]["baseline"]
    assert report["chosen"] in report["warm_ndcg@10"]
    best = max(report["warm_ndcg@10"].values())
    assert report["warm_ndcg@10"][report["chosen"]] >= best - 0.002
    kinds = {"lambdarank": "lambdarank", "baseline": "baseline"}
    assert fitted_hybrid.ranker_.kind == kinds.get(report["chosen"], "linear")
    assert report["chosen"] in report["reason_en"] and report["chosen"] in report["reason_zh"]
    assert report["check_teachers"] > 0


def test_ndcg_rows_matches_the_definition():
    scores = np.array([[3.0, 2.0, 1.0, 0.0]])
    allowed = np.array([[True, True, True, True]])
    relevant = np.array([[False, True, False, True]])
    expected = (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3))
    assert ndcg_rows(scores, allowed, relevant, 10)[0] == pytest.approx(expected)
    assert np.isnan(ndcg_rows(scores, allowed, np.zeros_like(relevant), 10)[0])


def test_a_lambdarank_model_survives_save_and_load(small_province, tmp_path):
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from recommender.ranking import HybridRecommender

    model = HybridRecommender(factors=8, iterations=5, ranker="lambdarank", random_state=0).fit(
        small_province, small_province.mastery, load_catalog(), default_framework()
    )
    assert isinstance(model.ranker_, LambdaRanker)
    importances = model.ranker_.weights()
    assert sum(importances.values()) == pytest.approx(1.0, abs=1e-3)
    loaded = load_recommender(save_recommender(model, tmp_path / "m", {"data_hash": "x"}))
    assert isinstance(loaded.ranker_, LambdaRanker)
    before = [r.model_dump() for r in model.recommend("T0000005", k=10, kind="all")]
    after = [r.model_dump() for r in loaded.recommend("T0000005", k=10, kind="all")]
    assert before == after


def test_an_unknown_ranker_is_refused(small_province):
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from recommender.ranking import HybridRecommender

    with pytest.raises(ValueError, match="ranker='tree'"):
        HybridRecommender(factors=4, iterations=2, ranker="tree").fit(
            small_province, small_province.mastery, load_catalog(), default_framework()
        )


def test_a_baseline_ranker_scores_by_its_signal_and_survives_save_and_load():
    from recommender.ranking.baseline_ranker import BaselineRanker
    from recommender.ranking.selection import ranker_from_arrays

    ranker = BaselineRanker("school_completers", "school_popularity").fit()
    signals = {
        "school_completers": np.array([[0.0, 2.0, 2.0, 1.0]], dtype=np.float32),
        "popularity": np.array([[9.0, 1.0, 3.0, 0.0]], dtype=np.float32),
    }
    order = np.argsort(-ranker.decision(signals)[0], kind="stable").tolist()
    assert order == [2, 1, 3, 0]  # the school's count first, popularity only breaks the tie
    assert ranker.weights() == {"school_completers": 1.0}
    loaded = ranker_from_arrays(ranker.to_arrays("warm_"), "warm_")
    assert isinstance(loaded, BaselineRanker)
    assert loaded.decision(signals).tolist() == ranker.decision(signals).tolist()
    assert loaded.baseline == "school_popularity"
