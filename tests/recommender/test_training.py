"""``nengli train`` end to end on a tiny simulated province: model directory, reload, recommend."""

from __future__ import annotations

import json

import pytest

from competency_model.province import write_province
from recommender.bundle import load_recommender
from recommender.training import train_model_dir
from training_data.simulator import simulate_province


@pytest.mark.slow
def test_train_writes_a_loadable_verified_model_dir(tmp_path):
    province = simulate_province(n_teachers=60, n_schools=1, seed=3)
    write_province(province, tmp_path / "province")
    metadata = train_model_dir(tmp_path / "province", tmp_path / "model", seed=0)
    assert metadata["n_teachers"] == 60 and len(metadata["data_hash"]) == 64
    stored = json.loads((tmp_path / "model" / "metadata.json").read_text(encoding="utf-8"))
    assert {"diagnosis.npz", "cf_als.npz", "ranker.npz", "tables.npz"} <= set(stored["files"])
    assert "validation" in stored["metrics"]
    selection = stored["model_selection"]
    assert selection["chosen"] in selection["warm_ndcg@10"]
    assert "school_popularity" in selection["baselines_ndcg@10"]
    assert selection["chosen"] in selection["reason_en"] and selection["reason_zh"]
    model = load_recommender(tmp_path / "model")
    teacher = str(province.teachers["teacher_id"].iloc[0])
    recs = model.recommend(teacher, k=5)
    assert recs and all(r.reasons_zh and r.reasons_en for r in recs)


@pytest.mark.slow
def test_reading_events_column_wise_trains_the_same_model(tmp_path):
    """``nengli train``'s column-wise read gives byte-identical model files."""
    from competency_model.province import read_province

    province = simulate_province(n_teachers=60, n_schools=1, seed=3)
    write_province(province, tmp_path / "province")
    train_model_dir(
        tmp_path / "province",
        tmp_path / "whole",
        seed=0,
        province=read_province(tmp_path / "province"),
    )
    train_model_dir(tmp_path / "province", tmp_path / "columns", seed=0)
    whole, columns = (
        json.loads((tmp_path / name / "metadata.json").read_text(encoding="utf-8"))["files"]
        for name in ("whole", "columns")
    )
    assert whole == columns
