"""Shapes, contract columns, invariants and determinism of the province simulator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.catalog import Catalog, default_catalog
from competency_model.errors import InfeasibleError
from competency_model.framework import default_framework
from competency_model.item_bank import default_item_bank
from competency_model.province import TABLE_COLUMNS, Province, read_province
from training_data.simulator import SimulatorConfig, simulate_province
from training_data.simulator.ids import format_ids
from training_data.simulator.schools import allocate_school_sizes
from training_data.simulator.writer import write_simulated_province

N_TEACHERS, N_SCHOOLS, SEED = 1200, 16, 11
CODES = default_framework().codes
ENV_RANK = {"multimedia": 0, "blended": 1, "smart": 2}


@pytest.fixture(scope="module")
def province() -> Province:
    return simulate_province(N_TEACHERS, N_SCHOOLS, seed=SEED)


@pytest.mark.parametrize("table", list(TABLE_COLUMNS))
def test_core_tables_have_contract_columns(province: Province, table: str) -> None:
    frame = getattr(province, table)
    assert set(TABLE_COLUMNS[table]) <= set(frame.columns)
    assert len(frame) > 0


def test_schools_sizes_and_attributes(province: Province) -> None:
    schools = province.schools
    assert len(schools) == N_SCHOOLS and schools["n_teachers"].sum() == N_TEACHERS
    assert schools["n_teachers"].between(20, 300).all()
    assert schools["school_id"].str.fullmatch(r"S\d{6}").all()
    assert set(schools["urban_rural"]) <= {"urban", "rural"}
    assert set(schools["rollout_batch"]) <= {1, 2, 3}
    counts = province.teachers.groupby("school_id").size()
    assert (
        counts.reindex(schools["school_id"]).to_numpy() == schools["n_teachers"].to_numpy()
    ).all()


def test_chosen_points_fit_the_school_environment(province: Province) -> None:
    point_env = {p.code: ENV_RANK[p.environment] for p in default_framework().points}
    for env, text in zip(
        province.schools["environment"], province.schools["chosen_points"], strict=True
    ):
        points = text.split(";")
        assert 3 <= len(points) <= 5
        assert all(point_env[p] <= ENV_RANK[env] for p in points), (env, points)


def test_teachers_ids_and_attributes(province: Province) -> None:
    teachers = province.teachers
    assert teachers["teacher_id"].is_unique
    assert teachers["teacher_id"].str.fullmatch(r"T\d{7}").all()
    assert teachers["years_of_service"].between(1, 40).all()
    assert teachers["research_group"].str.endswith("组").all()


def test_responses_follow_item_scales(province: Province) -> None:
    bank = default_item_bank()
    maximum = {item.item_id: item.max_response for item in bank.items}
    kind = {item.item_id: item.kind for item in bank.items}
    responses = province.responses
    assert not responses.duplicated(["teacher_id", "item_id"]).any()
    top = responses["item_id"].map(maximum)
    scenario = responses["item_id"].map(kind) == "scenario"
    assert responses.loc[scenario, "response"].isin([0.0, 1.0]).all()
    assert responses.loc[~scenario, "response"].between(1, top[~scenario]).all()
    # some teachers skip the questionnaire entirely: no rows, never NaN rows
    assert responses["response"].notna().all()
    assert responses["teacher_id"].nunique() < N_TEACHERS


def test_events_are_well_formed(province: Province) -> None:
    events = province.events
    catalog = default_catalog()
    assert events["event_id"].is_unique
    assert set(events["event"]) == {"enrol", "progress", "complete", "rate"}
    assert events["item_id"].map(lambda i: i in catalog).all()
    progress = events.loc[events["event"] == "progress", "value"]
    assert progress.between(0, 1).all()
    ratings = events.loc[events["event"] == "rate", "value"]
    assert ratings.isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert events.loc[events["event"].isin(["enrol", "complete"]), "value"].isna().all()


def test_events_follow_enrol_progress_complete_order(province: Province) -> None:
    events = province.events
    first = events.groupby(["teacher_id", "item_id", "event"])["timestamp"].min().unstack()
    done = first["complete"].notna()
    assert (first.loc[done, "enrol"] <= first.loc[done, "complete"]).all()
    last_progress = (
        events[events["event"] == "progress"].groupby(["teacher_id", "item_id"])["value"].max()
    )
    assert (last_progress.reindex(first.index[done]).fillna(1.0) == 1.0).all()
    assert not events.duplicated(["teacher_id", "item_id", "event", "timestamp", "value"]).any()


def test_courses_respect_environment_gating(province: Province) -> None:
    catalog = default_catalog().to_frame().set_index("item_id")
    enrol = province.events[province.events["event"] == "enrol"]
    env = enrol.merge(province.teachers[["teacher_id", "school_id"]], on="teacher_id").merge(
        province.schools[["school_id", "environment"]], on="school_id"
    )
    need = env["item_id"].map(catalog["environment"]).map(ENV_RANK)
    assert (need <= env["environment"].map(ENV_RANK)).all()


def test_grades_only_for_selected_points(province: Province) -> None:
    grades = province.grades
    assert set(grades["grade"]) <= {"优秀", "合格", "不合格"}
    assert not grades.duplicated(["teacher_id", "point"]).any()
    selected = province.truth_preferences.set_index("teacher_id")["selected_points"]
    assert all(
        p in selected[t].split(";")
        for t, p in zip(grades["teacher_id"], grades["point"], strict=True)
    )


def test_truth_tables_and_monotone_learning(province: Province) -> None:
    initial = province.truth_mastery_initial.set_index("teacher_id")
    final = province.truth_mastery.set_index("teacher_id")
    assert list(initial.columns) == CODES and list(final.columns) == CODES
    assert initial.isin([0, 1]).all().all()
    assert (final.to_numpy() >= initial.to_numpy()).all()
    assert (final.to_numpy() > initial.to_numpy()).any()
    items = province.truth_items
    assert list(items["item_id"]) == default_item_bank().item_ids
    scenario = items["kind"] == "scenario"
    assert items.loc[scenario, ["guess", "slip"]].notna().all().all()
    assert (items.loc[scenario, "guess"] < 1 - items.loc[scenario, "slip"]).all()


def test_same_seed_same_tables_other_seed_differs(province: Province) -> None:
    again = simulate_province(N_TEACHERS, N_SCHOOLS, seed=SEED)
    for name, frame in province.tables().items():
        pd.testing.assert_frame_equal(frame, again.tables()[name])
    other = simulate_province(N_TEACHERS, N_SCHOOLS, seed=SEED + 1)
    assert not other.responses.equals(province.responses)


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_written_files_are_identical_for_a_seed(tmp_path: Path, fmt: str) -> None:
    config = SimulatorConfig(chunk_teachers=150)
    write_simulated_province(tmp_path / "a", 400, 5, seed=3, format=fmt, config=config)
    write_simulated_province(tmp_path / "b", 400, 5, seed=3, format=fmt, config=config)
    digest_a = _digest(tmp_path / "a")
    assert digest_a == _digest(tmp_path / "b")
    assert {f"events.{fmt}", f"truth_mastery.{fmt}", "province.json"} <= set(digest_a)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_streamed_files_equal_the_in_memory_province(tmp_path: Path, fmt: str) -> None:
    config = SimulatorConfig(chunk_teachers=150)  # several chunks
    write_simulated_province(tmp_path, 600, 8, seed=5, format=fmt, config=config)
    written = read_province(tmp_path)
    expected = simulate_province(600, 8, seed=5, config=config).normalized()
    for name, frame in expected.tables().items():
        pd.testing.assert_frame_equal(written.tables()[name], frame, check_dtype=fmt == "parquet")


def test_chunking_changes_nothing_but_memory() -> None:
    small = simulate_province(500, 6, seed=2, config=SimulatorConfig(chunk_teachers=100))
    assert small.teachers["teacher_id"].iloc[-1] == "T0000500"
    assert small.events["event_id"].is_unique


@pytest.mark.parametrize(("teachers", "schools"), [(100, 10), (1000, 2), (10, 1)])
def test_impossible_school_sizes_are_refused(teachers: int, schools: int) -> None:
    with pytest.raises(InfeasibleError, match="schools"):
        simulate_province(teachers, schools, seed=0)


@settings(max_examples=40, deadline=None)
@given(schools=st.integers(1, 60), mean=st.integers(20, 300), seed=st.integers(0, 2**32 - 1))
def test_school_sizes_add_up_within_bounds(schools: int, mean: int, seed: int) -> None:
    total = schools * mean
    sizes = allocate_school_sizes(total, schools, np.random.default_rng(seed), SimulatorConfig())
    assert sizes.sum() == total
    assert sizes.min() >= 20 and sizes.max() <= 300


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 10**7 - 1), max_size=50))
def test_format_ids_matches_fstring(numbers: list[int]) -> None:
    assert format_ids("T", np.array(numbers, dtype=np.int64), 7).tolist() == [
        f"T{n:07d}" for n in numbers
    ]


@pytest.mark.parametrize("keep", ["courses", "tasks"])
def test_a_small_custom_catalog_is_enough(keep: str) -> None:
    full = default_catalog()
    items = full.courses[:40] if keep == "courses" else full.tasks[:20]
    province = simulate_province(200, 4, seed=1, catalog=Catalog(items))
    prefix = "CRS" if keep == "courses" else "TSK"
    assert province.events["item_id"].str.startswith(prefix).all()
    assert (province.grades.empty) == (keep == "courses")
