"""Province container: round trips, dtype normalisation, clear errors, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_model import province as province_module
from competency_model.errors import DatasetError
from competency_model.province import (
    MANIFEST_NAME,
    TABLE_COLUMNS,
    TIMESTAMP_DTYPE,
    Province,
    normalize_table,
    read_province,
    write_province,
)


def _province(n_events: int = 3, truth: bool = True) -> Province:
    schools = pd.DataFrame(
        {
            "school_id": ["S000001", "S000002"],
            "region": ["江苏", "江苏"],
            "city": ["南京", "苏州"],
            "district": ["玄武区", "吴江区"],
            "urban_rural": ["urban", "rural"],
            "environment": ["smart", "multimedia"],
            "n_teachers": [120, 35],
            "chosen_points": [["A1", "B2", "C4"], ""],
            "rollout_batch": [1, 3],
        }
    )
    teachers = pd.DataFrame(
        {
            "teacher_id": ["T0000001", "T0000002"],
            "school_id": ["S000001", "S000002"],
            "stage": ["小学", "初中"],
            "subject": ["数学", "语文"],
            "years_of_service": [3, 21],
            "research_group": ["小学数学组", "初中语文组"],
        }
    )
    responses = pd.DataFrame({"teacher_id": ["T0000001"], "item_id": ["Q001"], "response": [1]})
    grades = pd.DataFrame(
        {
            "teacher_id": ["T0000001"],
            "point": ["A1"],
            "grade": ["优秀"],
            "assessed_at": ["2024-06-30 10:00:00"],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(n_events)],
            "teacher_id": ["T0000001"] * n_events,
            "item_id": ["CRS-0001"] * n_events,
            "event": ["progress"] * n_events,
            "value": np.linspace(0, 1, n_events),
            "timestamp": pd.date_range("2024-03-01", periods=n_events, freq="h"),
        }
    )
    extra = {}
    if truth:
        extra["truth_mastery"] = pd.DataFrame(
            {"teacher_id": ["T0000001", "T0000002"], "A1": [1, 0], "B2": [0, 1]}
        )
    return Province(
        schools=schools,
        teachers=teachers,
        responses=responses,
        grades=grades,
        events=events,
        **extra,
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_preserves_every_table(tmp_path: Path, fmt: str) -> None:
    original = _province().normalized()
    write_province(original, tmp_path / "p", format=fmt)
    loaded = read_province(tmp_path / "p")
    assert set(loaded.tables()) == set(original.tables())
    for name, frame in original.tables().items():
        pd.testing.assert_frame_equal(loaded.tables()[name], frame, check_dtype=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_dtypes_are_normalised(tmp_path: Path, fmt: str) -> None:
    write_province(_province(), tmp_path / "p", format=fmt)
    loaded = read_province(tmp_path / "p")
    assert loaded.events["timestamp"].dtype == TIMESTAMP_DTYPE
    assert loaded.grades["assessed_at"].dtype == TIMESTAMP_DTYPE
    assert pd.api.types.is_string_dtype(loaded.teachers["teacher_id"])
    assert loaded.schools["chosen_points"].tolist() == ["A1;B2;C4", ""]
    assert loaded.truth_mastery is not None and loaded.truth_mastery["A1"].dtype == np.int8


def test_numeric_ids_in_csv_stay_strings(tmp_path: Path) -> None:
    directory = tmp_path / "p"
    write_province(_province(truth=False), directory, format="csv")
    teachers = pd.read_csv(directory / "teachers.csv", dtype=str)
    teachers["teacher_id"] = ["00123", "00124"]
    teachers.to_csv(directory / "teachers.csv", index=False)
    assert read_province(directory).teachers["teacher_id"].tolist() == ["00123", "00124"]


def test_integral_float_ids_lose_the_decimal_point() -> None:
    frame = pd.DataFrame(
        {"teacher_id": [1001.0, 1002.0], "item_id": ["Q1", "Q2"], "response": [1, 0]}
    )
    assert normalize_table("responses", frame)["teacher_id"].tolist() == ["1001", "1002"]


def test_truth_tables_are_optional(tmp_path: Path) -> None:
    write_province(_province(truth=False), tmp_path / "p")
    loaded = read_province(tmp_path / "p")
    assert loaded.truth_mastery is None and not loaded.has_truth


def test_missing_table_is_named(tmp_path: Path) -> None:
    write_province(_province(), tmp_path / "p")
    (tmp_path / "p" / "grades.parquet").unlink()
    with pytest.raises(DatasetError, match="grades"):
        read_province(tmp_path / "p")


def test_missing_column_is_named(tmp_path: Path) -> None:
    write_province(_province(), tmp_path / "p", format="csv")
    path = tmp_path / "p" / "teachers.csv"
    pd.read_csv(path).drop(columns=["stage"]).to_csv(path, index=False)
    with pytest.raises(DatasetError, match="stage") as info:
        read_province(tmp_path / "p")
    assert info.value.details["missing_columns"] == ["stage"]


def test_missing_directory_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        read_province(tmp_path / "nowhere")


def test_bad_timestamp_names_table_and_column() -> None:
    frame = pd.DataFrame(
        {"teacher_id": ["T1"], "point": ["A1"], "grade": ["合格"], "assessed_at": ["not a date"]}
    )
    with pytest.raises(DatasetError, match="assessed_at"):
        normalize_table("grades", frame)


def test_timezone_aware_timestamps_become_beijing_time() -> None:
    frame = pd.DataFrame(
        {
            "teacher_id": ["T1"],
            "point": ["A1"],
            "grade": ["合格"],
            "assessed_at": [pd.Timestamp("2024-01-01 00:00", tz="UTC")],
        }
    )
    assert normalize_table("grades", frame)["assessed_at"].iloc[0] == pd.Timestamp(
        "2024-01-01 08:00"
    )


def test_unknown_format_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="format"):
        write_province(_province(), tmp_path / "p", format="xlsx")  # type: ignore[arg-type]


def test_rewrite_replaces_tables_and_keeps_foreign_files(tmp_path: Path) -> None:
    directory = tmp_path / "p"
    write_province(_province(), directory, format="csv")
    (directory / "notes.txt").write_text("keep me", encoding="utf-8")
    write_province(_province(truth=False), directory, format="parquet")
    names = {p.name for p in directory.iterdir()}
    assert "notes.txt" in names
    assert not any(n.endswith(".csv") for n in names)
    assert "truth_mastery.parquet" not in names
    assert json.loads((directory / MANIFEST_NAME).read_text())["format"] == "parquet"


def test_crash_while_writing_leaves_previous_province_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "p"
    write_province(_province(n_events=3), directory)
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def failing(self: pd.DataFrame, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    with pytest.raises(OSError, match="disk full"):
        write_province(_province(n_events=7), directory)
    monkeypatch.undo()
    assert len(read_province(directory).events) == 3
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "p"]
    assert leftovers == []


def test_empty_province_has_all_columns() -> None:
    empty = Province()
    for name, columns in TABLE_COLUMNS.items():
        assert list(empty.tables()[name].columns) == list(columns)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.floats(min_value=0, max_value=1), min_size=0, max_size=20))
def test_event_values_survive_csv_round_trip(tmp_path: Path, values: list[float]) -> None:
    events = pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(len(values))],
            "teacher_id": "T1",
            "item_id": "CRS-0001",
            "event": "progress",
            "value": values,
            "timestamp": pd.Timestamp("2024-01-01 08:00:00.123456"),
        }
    )
    target = tmp_path / f"p{len(values)}"
    write_province(Province(events=events), target, format="csv")
    loaded = read_province(target).events
    np.testing.assert_array_equal(loaded["value"].to_numpy(), np.asarray(values, dtype=float))
    assert (loaded["timestamp"] == pd.Timestamp("2024-01-01 08:00:00.123456")).all()


def test_module_exports_are_importable() -> None:
    for name in province_module.__all__:
        assert hasattr(province_module, name)


def test_for_teachers_keeps_only_their_rows_and_schools() -> None:
    province = _province().normalized()
    subset = province.for_teachers(["T0000002"])
    assert subset.teachers["teacher_id"].tolist() == ["T0000002"]
    assert subset.schools["school_id"].tolist() == ["S000002"]
    assert subset.events.empty and subset.grades.empty and subset.responses.empty
    assert subset.truth_mastery is not None
    assert subset.truth_mastery["teacher_id"].tolist() == ["T0000002"]
