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


def test_the_best_baseline_serves_when_no_learned_blend_beats_it_on_the_check():
    import scipy.sparse as sp

    from recommender.ranking.baseline_ranker import BaselineRanker
    from recommender.ranking.selection import select_rankers
    from recommender.ranking.signals import SIGNALS

    n_teachers, n_items, seed = 40, 30, 0
    sample = np.arange(n_teachers)
    positives = {r: np.array([r % n_items, (r + 7) % n_items]) for r in sample.tolist()}
    # the check teachers are the first quarter of the selection's own permutation
    check = set(np.random.default_rng(seed).permutation(sample)[: n_teachers // 4].tolist())
    noise = np.random.default_rng(1)

    def features(rows):
        out = {name: noise.random((len(rows), n_items)).astype(np.float32) for name in SIGNALS}
        for i, row in enumerate(rows.tolist()):
            # fit teachers follow popularity, check teachers their school: what is learned on
            # the one fails on the other, and only the school baseline finds the check's items
            out["school_completers" if row in check else "popularity"][i, positives[row]] = 5.0
        return out

    empty = sp.csr_matrix((n_teachers, n_items), dtype=np.float32)
    selection = select_rankers(
        sample,
        positives,
        features,
        lambda rows: np.ones((len(rows), n_items), dtype=bool),
        empty,
        empty,
        lambda rows: np.ones((len(rows), n_items), dtype=bool),
        np.zeros(n_items, dtype=bool),
        negatives_per_teacher=20,
        ranker_c=1.0,
        random_state=seed,
    )
    assert selection.report["chosen"] == "baseline"
    assert selection.report["fallback_baseline"] == "school_popularity"
    assert isinstance(selection.ranker, BaselineRanker)
    assert selection.ranker.signal == "school_completers"
    assert "school_popularity" in selection.report["reason_en"]
    assert selection.report["warm_ndcg@10"]["baseline"] > max(
        selection.report["warm_ndcg@10"][name] for name in ("linear_legacy", "linear", "lambdarank")
    )


def _select_on_popularity(refit, ranker="auto"):
    """A selection where every teacher's held-out items are the popular ones (a blend finds them)."""
    import scipy.sparse as sp

    from recommender.ranking.selection import select_rankers
    from recommender.ranking.signals import SIGNALS

    n_teachers, n_items = 40, 30
    sample = np.arange(n_teachers)
    positives = {r: np.array([r % n_items, (r + 7) % n_items]) for r in sample.tolist()}

    def features(rows):
        out = {}
        for name in SIGNALS:
            per_row = [np.random.default_rng([row, len(name)]).random(n_items) for row in rows]
            out[name] = np.array(per_row, dtype=np.float32)
        for i, row in enumerate(rows.tolist()):
            out["popularity"][i, positives[row]] += 0.6
        return out

    empty = sp.csr_matrix((n_teachers, n_items), dtype=np.float32)
    selection = select_rankers(
        sample,
        positives,
        features,
        lambda rows: np.ones((len(rows), n_items), dtype=bool),
        empty,
        empty,
        lambda rows: np.ones((len(rows), n_items), dtype=bool),
        np.zeros(n_items, dtype=bool),
        negatives_per_teacher=20,
        ranker_c=1.0,
        random_state=0,
        ranker=ranker,
        refit=refit,
    )
    return selection, features(sample)


def test_refitting_only_the_chosen_ranker_serves_what_refitting_all_serves():
    chosen_only, signals = _select_on_popularity("chosen")
    everything, _ = _select_on_popularity("all")
    check_only, _ = _select_on_popularity("none")
    chosen = chosen_only.report["chosen"]
    assert chosen in ("linear_legacy", "linear", "lambdarank")
    assert chosen_only.report["refit"] == "chosen"
    np.testing.assert_allclose(
        chosen_only.ranker.decision(signals), everything.ranker.decision(signals)
    )
    # the serving ranker learnt from the check teachers too: it is not the check's own fit
    assert not np.allclose(
        chosen_only.ranker.decision(signals), check_only.ranker.decision(signals)
    )
    for name in ("linear_legacy", "linear", "lambdarank"):
        if name == chosen:
            continue
        # a candidate that does not serve stays as the check fitted it
        kept = chosen_only.candidates[name].decision(signals)
        np.testing.assert_allclose(kept, check_only.candidates[name].decision(signals))
        assert not np.allclose(kept, everything.candidates[name].decision(signals))


def test_continuing_extends_the_checks_lambdarank_to_every_sampled_teacher():
    from recommender.ranking.candidates import CONTINUE_SHARE
    from recommender.ranking.signals import CONTENT_SIGNALS, SIGNALS

    grown, signals = _select_on_popularity("continue", ranker="lambdarank")
    check_only, _ = _select_on_popularity("none", ranker="lambdarank")
    refitted, _ = _select_on_popularity("chosen", ranker="lambdarank")
    assert grown.report["refit"] == "continue"
    for model, start, names in (
        (grown.ranker, check_only.ranker, SIGNALS),
        (grown.cold_ranker, check_only.cold_ranker, CONTENT_SIGNALS),
    ):
        assert isinstance(model, LambdaRanker) and isinstance(start, LambdaRanker)
        rounds = start.booster_.num_trees()
        # a tiny problem can run out of splits before n_estimators: at most the share more
        added = model.booster_.num_trees() - rounds
        assert 0 < added <= round(start.n_estimators * CONTINUE_SHARE)
        X = np.stack([signals[name].reshape(-1) for name in names], axis=1)
        # the first trees are the check's own: boosting went on from them ...
        np.testing.assert_allclose(
            model.booster_.predict(X, num_iteration=rounds), start.booster_.predict(X)
        )
        # ... on more teachers, so the served model is not the check's fit
        assert not np.allclose(model.booster_.predict(X), start.booster_.predict(X))
    # not a refit from scratch either
    assert not np.allclose(grown.ranker.decision(signals), refitted.ranker.decision(signals))


def test_continuing_refits_a_serving_linear_blend_as_chosen_does():
    grown, signals = _select_on_popularity("continue", ranker="linear")
    refitted, _ = _select_on_popularity("chosen", ranker="linear")
    np.testing.assert_allclose(grown.ranker.decision(signals), refitted.ranker.decision(signals))


def test_a_lambdarank_continues_only_from_a_ranker_on_the_same_signals():
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = (np.arange(60) % 6 == 0).astype(np.int8)
    sizes = np.full(10, 6)
    start = LambdaRanker(n_estimators=5).fit(X, y, ["a", "b", "c"], sizes)
    with pytest.raises(ValueError, match="init ranks by"):
        LambdaRanker(n_estimators=5).fit(X, y, ["a", "b", "d"], sizes, init=start)


def test_an_unknown_ranker_refit_is_refused():
    with pytest.raises(ValueError, match="ranker_refit='sometimes'"):
        _select_on_popularity("sometimes")


def test_the_estimator_passes_ranker_refit_to_the_selection(small_province):
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from recommender.ranking import HybridRecommender

    model = HybridRecommender(factors=4, iterations=2, ranker_refit="none", random_state=0).fit(
        small_province, small_province.mastery, load_catalog(), default_framework()
    )
    assert model.validation_metrics_["refit"] == "none"
    assert model.ranker_ is model.ranker_candidates_[model.validation_metrics_["chosen"]]
