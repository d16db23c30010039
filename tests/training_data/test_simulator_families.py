"""Simulator families: each is deterministic per seed and has its defining property."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy.stats import spearmanr
from typer.testing import CliRunner

from training_data.simulator import SimulatorConfig, prepare, simulate_province
from training_data.simulator.config import FAMILIES
from training_data.simulator.writer import write_simulated_province

N_TEACHERS, N_SCHOOLS, SEED = 900, 12, 3


@pytest.fixture(scope="module")
def provinces():
    """One small province and its context per family, same seed and sizes."""
    out = {}
    for family in FAMILIES:
        config = SimulatorConfig(family=family)
        out[family] = (
            simulate_province(N_TEACHERS, N_SCHOOLS, seed=SEED, config=config),
            prepare(N_TEACHERS, N_SCHOOLS, SEED, config=config),
        )
    return out


def _course_completions(province, ctx) -> pd.DataFrame:
    online = set(np.asarray(ctx.catalog.item_ids)[ctx.catalog.online].tolist())
    done = province.events[province.events["event"] == "complete"]
    done = done[done["item_id"].isin(online)]
    return done.merge(province.teachers[["teacher_id", "school_id"]], on="teacher_id")


def _in_progress_share(province, ctx) -> float:
    """Share of course enrolments with a progress event and no completion (学习中)."""
    online = set(np.asarray(ctx.catalog.item_ids)[ctx.catalog.online].tolist())
    events = province.events[province.events["item_id"].isin(online)]
    states = events.groupby(["teacher_id", "item_id"], observed=True)["event"].agg(set)
    return float(states.map(lambda s: "progress" in s and "complete" not in s).mean())


def test_the_families_are_listed():
    assert {"graph", "latent", "mandate", "quality", "in_progress"} <= set(FAMILIES)


def test_unknown_family_names_the_families():
    with pytest.raises(ValidationError) as caught:
        SimulatorConfig(family="nonsense")
    message = str(caught.value)
    assert "nonsense" in message
    assert all(name in message for name in FAMILIES)


def test_graph_is_the_default_family():
    assert SimulatorConfig().family == "graph"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_same_seed_same_bytes_per_family(tmp_path: Path, family: str):
    config = SimulatorConfig(family=family)

    def digest(directory: Path) -> dict[str, str]:
        write_simulated_province(directory, 240, 3, seed=11, format="csv", config=config)
        return {
            f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(directory.iterdir())
        }

    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_families_differ_from_the_graph_family(provinces):
    graph_events = provinces["graph"][0].events
    for family in FAMILIES:
        if family != "graph":
            assert not provinces[family][0].events.equals(graph_events), family


def test_same_schools_and_teachers_in_every_family(provinces):
    graph = provinces["graph"][0]
    for family, (province, _) in provinces.items():
        assert province.teachers.equals(graph.teachers), family
        assert province.schools.equals(graph.schools), family


def test_latent_family_correlation_is_low_rank_without_the_graph(provinces):
    ctx = provinces["latent"][1]
    config = ctx.config
    eigen = np.sort(np.linalg.eigvalsh(ctx.family.correlation))
    # all but `latent_rank` eigenvalues equal the uniqueness: rank-r skills plus own noise
    np.testing.assert_allclose(eigen[: -config.latent_rank], config.latent_uniqueness, atol=1e-9)
    np.testing.assert_allclose(np.diag(ctx.family.correlation), 1.0)
    assert not ctx.family.spill_over and not ctx.transfer.any()


def test_latent_family_learns_only_on_studied_points(provinces):
    province, ctx = provinces["latent"]
    rows = {t: i for i, t in enumerate(province.teachers["teacher_id"])}
    column = {item: j for j, item in enumerate(ctx.catalog.item_ids)}
    touched = np.zeros((len(rows), len(ctx.catalog.item_ids)), dtype=bool)
    progressed = province.events[province.events["event"].isin(["progress", "complete"])]
    touched[
        progressed["teacher_id"].map(rows).to_numpy(), progressed["item_id"].map(column).to_numpy()
    ] = True
    studied = (touched.astype(float) @ ctx.catalog.weights) > 0
    rose = (
        province.truth_mastery.iloc[:, 1:].to_numpy()
        > province.truth_mastery_initial.iloc[:, 1:].to_numpy()
    )
    assert rose.any()
    assert not (rose & ~studied).any()  # no spill-over to graph neighbours


def test_mandate_family_completes_mostly_mandated_courses(provinces):
    province, ctx = provinces["mandate"]
    done = _course_completions(province, ctx)
    school_row = {s: i for i, s in enumerate(ctx.schools["school_id"])}
    column = {item: j for j, item in enumerate(ctx.catalog.item_ids)}
    mandated = ctx.family.mandated[
        done["school_id"].map(school_row).to_numpy(), done["item_id"].map(column).to_numpy()
    ]
    assert mandated.mean() > 0.5
    assert (ctx.family.mandated.sum(axis=1) == ctx.config.mandate_courses).all()


def test_mandate_family_concentrates_completions_within_schools(provinces):
    def top_share(family: str) -> float:
        done = _course_completions(*provinces[family])
        counts = done.groupby(["school_id", "item_id"], observed=True).size()
        top = counts.groupby(level=0, group_keys=False).nlargest(8)
        return float(top.sum() / counts.sum())

    assert top_share("mandate") > top_share("graph") + 0.15


def test_quality_family_enrolments_follow_quality_and_list_position(provinces):
    province, ctx = provinces["quality"]
    online = ctx.catalog.online
    online_ids = np.asarray(ctx.catalog.item_ids)[online]
    enrolments = province.events[province.events["event"] == "enrol"]["item_id"]
    counts = enrolments.value_counts().reindex(online_ids).fillna(0).to_numpy()
    assert spearmanr(counts, ctx.catalog.quality[online]).statistic > 0.3
    assert spearmanr(counts, ctx.family.display_rank[online]).statistic < -0.3
    graph_province, graph_ctx = provinces["graph"]
    graph_counts = (
        graph_province.events[graph_province.events["event"] == "enrol"]["item_id"]
        .value_counts()
        .reindex(online_ids)
        .fillna(0)
        .to_numpy()
    )
    assert abs(spearmanr(graph_counts, graph_ctx.catalog.quality[online]).statistic) < 0.15


def test_in_progress_family_has_progress_without_completion(provinces):
    share = _in_progress_share(*provinces["in_progress"])
    assert share > 0.3
    assert share > _in_progress_share(*provinces["graph"]) + 0.1


def test_in_progress_family_ends_on_the_export_day(provinces):
    province, ctx = provinces["in_progress"]
    export = np.datetime64(ctx.config.cycle_start) + np.timedelta64(
        int(ctx.config.export_day * 86_400), "s"
    )
    assert (province.events["timestamp"].to_numpy() <= export).all()
    assert (province.grades["assessed_at"].to_numpy() < export).all()
    assert (province.truth_mastery.iloc[:, 1:] >= province.truth_mastery_initial.iloc[:, 1:]).all(
        axis=None
    )


def test_generate_cli_takes_a_family(tmp_path: Path):
    from service.cli.main import app

    out = tmp_path / "p"
    args = ["generate", "--teachers", "240", "--schools", "3", "--seed", "2", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--family", "mandate"])
    assert result.exit_code == 0, result.output
    assert '"family": "mandate"' in (out / "province.json").read_text(encoding="utf-8")
    expected = simulate_province(240, 3, seed=2, config=SimulatorConfig(family="mandate"))
    assert len(pd.read_parquet(out / "events.parquet")) == len(expected.events)


def test_generate_cli_refuses_an_unknown_family(tmp_path: Path):
    from service.cli.main import app

    args = ["generate", "--teachers", "240", "--schools", "3", "--out", str(tmp_path / "p")]
    result = CliRunner().invoke(app, [*args, "--family", "nonsense"])
    assert result.exit_code == 2
    assert "nonsense" in result.output and "in_progress" in result.output
    assert not (tmp_path / "p").exists()
