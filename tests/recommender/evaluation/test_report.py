"""Headline ratios and the per-family table."""

from __future__ import annotations

from recommender.evaluation.report import format_table, ratios


def _block(ndcg: float) -> dict[str, float]:
    return {"ndcg@10": ndcg, "recall@10": ndcg, "n_users": 5.0}


def _doc(hybrid: float, cold_hybrid: float) -> dict:
    return {
        "hybrid": _block(hybrid),
        "baselines": {"popularity": _block(0.05), "school_popularity": _block(0.2)},
        "cold_start": {"hybrid": _block(cold_hybrid), "popularity": _block(0.1)},
        "cold_start_baselines": {"school_popularity": _block(0.3)},
    }


def test_ratio_is_over_the_best_baseline():
    summary = ratios(_doc(0.25, 0.4))
    assert summary["best_baseline"] == "school_popularity"
    assert summary["hybrid_over_best_baseline"] == 1.25
    assert summary["warm_target_met"] is True


def test_cold_ratio_is_over_popularity_and_over_the_best_cold_baseline():
    summary = ratios(_doc(0.25, 0.15))
    assert summary["cold_hybrid_over_popularity"] == 1.5
    assert summary["cold_target_met"] is False
    assert summary["cold_best_baseline"] == "school_popularity"
    assert summary["cold_hybrid_over_best_baseline"] == 0.5


def test_warm_target_missed_below_1_2():
    assert ratios(_doc(0.23, 0.4))["warm_target_met"] is False


def test_ratio_over_a_zero_baseline_is_none():
    doc = _doc(0.2, 0.2)
    doc["baselines"] = {"popularity": _block(0.0)}
    assert ratios(doc)["hybrid_over_best_baseline"] is None


def test_table_lists_every_model_best_baseline_first_and_the_ratios():
    text = format_table(_doc(0.25, 0.4), "[graph]")
    lines = text.splitlines()
    assert lines[0] == "[graph]"
    names = [line.split()[0] for line in lines[2:5]]
    assert names == ["hybrid", "school_popularity", "popularity"]
    assert "hybrid / best baseline (school_popularity): 1.25" in text
    assert "cold start hybrid / popularity: 4.0" in text
