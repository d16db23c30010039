"""``nengli train``'s reading of a province: the events column-wise, the same values otherwise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from competency_model.errors import DatasetError
from competency_model.province import read_province, write_province
from competency_model.province_columns import (
    TRAINING_EVENT_COLUMNS,
    read_events_columns,
    read_training_province,
)
from training_data.simulator import simulate_province


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("province")
    write_province(simulate_province(n_teachers=40, n_schools=2, seed=1), directory)
    return directory


def test_events_are_read_without_event_ids_as_categoricals(province_dir: Path) -> None:
    full = read_province(province_dir)
    read = read_training_province(province_dir)
    assert tuple(read.events.columns) == TRAINING_EVENT_COLUMNS
    for column in ("teacher_id", "item_id", "event"):
        assert isinstance(read.events[column].dtype, pd.CategoricalDtype)
    decoded = read.events.astype(dict.fromkeys(("teacher_id", "item_id", "event"), str))
    pd.testing.assert_frame_equal(decoded, full.events[list(TRAINING_EVENT_COLUMNS)])
    for name in ("schools", "teachers", "responses", "grades"):
        pd.testing.assert_frame_equal(getattr(read, name), getattr(full, name))


def test_integer_ids_become_the_strings_read_province_gives(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "teacher_id": [1001, 1002],
            "item_id": ["CRS-0001", "CRS-0002"],
            "event": ["enrol", "complete"],
            "value": [None, None],
            "timestamp": pd.to_datetime(["2024-03-01 09:30", "2024-03-02 10:00"]),
        }
    )
    events.to_parquet(tmp_path / "events.parquet", index=False)
    read = read_events_columns(tmp_path / "events.parquet")
    assert read["teacher_id"].astype(str).tolist() == ["1001", "1002"]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    pd.DataFrame({"teacher_id": ["T1"], "item_id": ["CRS-0001"]}).to_parquet(
        tmp_path / "events.parquet", index=False
    )
    with pytest.raises(DatasetError, match="event, value, timestamp"):
        read_events_columns(tmp_path / "events.parquet")
