"""``nengli evaluate interactions`` through the CLI on a small interaction file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from service.cli.main import app


def test_evaluate_interactions_prints_metrics_json(tmp_path, rng):
    users = np.repeat(np.arange(30), 10)
    frame = pd.DataFrame(
        {"user_id": users, "item_id": (users % 3) * 10 + rng.integers(0, 10, users.size)}
    )
    path = tmp_path / "interactions.csv"
    frame.drop_duplicates().to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["evaluate", "interactions", "--file", str(path), "--format", "csv", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"popularity", "als", "bpr", "item_knn"} <= set(report)
    assert 0.0 <= report["als"]["ndcg@10"] <= 1.0


def test_missing_file_is_reported(tmp_path):
    result = CliRunner().invoke(
        app, ["evaluate", "interactions", "--file", str(tmp_path / "none.csv")]
    )
    assert result.exit_code != 0


def test_evaluate_recommend_refuses_an_unknown_family():
    result = CliRunner().invoke(
        app, ["evaluate", "recommend", "--teachers", "100", "--family", "nonsense"]
    )
    assert result.exit_code == 2
    assert "nonsense" in result.output and "mandate" in result.output


def test_family_all_expands_to_every_family():
    from service.cli.evaluate_recommend_cmd import resolve_families
    from training_data.simulator.config import FAMILIES

    assert resolve_families(["all"]) == list(FAMILIES)
    assert resolve_families(["latent,graph", "graph"]) == ["latent", "graph"]
    assert resolve_families(None) == ["graph"]


def test_evaluate_recommend_prints_a_table_and_the_ratios_per_family():
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "recommend",
            "--teachers",
            "200",
            "--seed",
            "1",
            "--family",
            "graph",
            "--family",
            "in_progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("hybrid / best baseline (") == 2
    assert result.output.count("cold start hybrid / popularity: ") == 2
    assert "[graph]" in result.output and "[in_progress]" in result.output
    for name in ("school_popularity", "group_popularity", "recency_popularity", "als"):
        assert name in result.output


def test_evaluate_recommend_json_of_one_family_carries_ratios():
    result = CliRunner().invoke(
        app, ["evaluate", "recommend", "--teachers", "200", "--family", "latent", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["family"] == "latent"
    assert report["protocol"]["target"] == "complete"
    best = report["ratios"]["best_baseline"]
    expected = report["hybrid"]["ndcg@10"] / report["baselines"][best]["ndcg@10"]
    assert abs(report["ratios"]["hybrid_over_best_baseline"] - expected) < 1e-3
    assert {"school_popularity", "school_popularity_gap"} <= set(report["cold_start_baselines"])
