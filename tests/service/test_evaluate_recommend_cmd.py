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
