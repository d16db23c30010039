"""The coded event log gives the same split and matrices as the pandas helpers it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.evaluation.splits import time_split
from recommender.ranking.cf import confidence_matrix
from recommender.ranking.coded_events import CodedEvents, completion_split, latest_item_split


def _events(seed: int, n: int = 4000) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    teachers = np.array([f"T{i:03d}" for i in rng.permutation(60)])
    items = np.array([f"I{i:03d}" for i in rng.permutation(40)])
    # Ids the model does not know (a teacher and an item outside the tables) stay in the log.
    teacher_col = rng.choice(np.r_[teachers, ["TX"]], n)
    item_col = rng.choice(np.r_[items, ["IX"]], n)
    kind = rng.choice(["enrol", "progress", "complete", "rate"], n)
    value = np.where(kind == "progress", rng.random(n), np.where(kind == "rate", 3.0, np.nan))
    # Coarse timestamps so that items tie on their first touch.
    when = np.datetime64("2024-01-01") + rng.integers(0, 30, n).astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "teacher_id": teacher_col,
            "item_id": item_col,
            "event": kind,
            "value": value,
            "timestamp": when,
        }
    )
    return frame, teachers, items


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_latest_item_split_matches_time_split(seed: int) -> None:
    events, teachers, items = _events(seed)
    coded = CodedEvents.from_frame(events, teachers, items)
    keep, rows, cols = latest_item_split(coded)
    train, test = time_split(events, holdout_items=1, min_train_items=1)
    expected_rows = pd.Index(teachers).get_indexer(test["teacher_id"])
    expected_cols = pd.Index(items).get_indexer(test["item_id"])
    ok = (expected_rows >= 0) & (expected_cols >= 0)
    np.testing.assert_array_equal(rows, expected_rows[ok])
    np.testing.assert_array_equal(cols, expected_cols[ok])
    assert keep.sum() == len(train)
    got = coded.confidence(keep, None)
    want = confidence_matrix(train, pd.Index(teachers), pd.Index(items))
    assert (got != want).nnz == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("holdout", "min_train"), [(2, 1), (1, 1), (1, 0), (3, 2)])
def test_completion_split_matches_time_split(seed: int, holdout: int, min_train: int) -> None:
    events, teachers, items = _events(seed)
    coded = CodedEvents.from_frame(events, teachers, items)
    split = completion_split(coded, holdout, min_train)
    train, test = time_split(
        events, holdout_items=holdout, min_train_items=min_train, event="complete"
    )
    assert split.n_held == len(test) > 0
    pd.testing.assert_frame_equal(events[split.keep].reset_index(drop=True), train)
    touched = events.iloc[split.first_touch]
    np.testing.assert_array_equal(touched["teacher_id"].to_numpy(), test["teacher_id"].to_numpy())
    np.testing.assert_array_equal(touched["item_id"].to_numpy(), test["item_id"].to_numpy())
    np.testing.assert_array_equal(touched["timestamp"].to_numpy(), test["timestamp"].to_numpy())
    expected_rows = pd.Index(teachers).get_indexer(test["teacher_id"])
    expected_cols = pd.Index(items).get_indexer(test["item_id"])
    ok = (expected_rows >= 0) & (expected_cols >= 0)
    np.testing.assert_array_equal(split.rows, expected_rows[ok])
    np.testing.assert_array_equal(split.cols, expected_cols[ok])
    assert (
        coded.confidence(split.keep, None)
        != confidence_matrix(train, pd.Index(teachers), pd.Index(items))
    ).nnz == 0


def test_completion_split_without_completions_keeps_everything() -> None:
    events, teachers, items = _events(0, 200)
    events = events[events["event"] != "complete"].reset_index(drop=True)
    split = completion_split(CodedEvents.from_frame(events, teachers, items), 2, 1)
    assert split.n_held == 0 and split.keep.all() and split.rows.size == 0


def test_confidence_and_completed_match_the_pandas_matrices() -> None:
    events, teachers, items = _events(5)
    coded = CodedEvents.from_frame(events, teachers, items)
    want = confidence_matrix(events, pd.Index(teachers), pd.Index(items))
    assert abs(coded.confidence(None, None) - want).max() < 1e-6
    done = confidence_matrix(
        events[events["event"] == "complete"],
        pd.Index(teachers),
        pd.Index(items),
        {"complete": 1.0, "enrol": 0.0, "progress": 0.0, "rate": 0.0},
    )
    done.data[:] = 1.0
    assert (coded.completed(None) != done).nnz == 0


def test_unknown_event_kind_is_named() -> None:
    events, teachers, items = _events(0, 10)
    events.loc[3, "event"] = "like"
    with pytest.raises(ValueError, match="like"):
        CodedEvents.from_frame(events, teachers, items)


def test_categorical_columns_code_like_strings() -> None:
    """Parquet dictionary columns (categoricals, unused categories included) code the same."""
    events, teachers, items = _events(3)
    as_categories = events.astype({"teacher_id": "category", "item_id": "category"})
    as_categories["event"] = pd.Categorical(
        events["event"], categories=["rate", "complete", "progress", "enrol", "unused"]
    )
    plain = CodedEvents.from_frame(events, teachers, items)
    coded = CodedEvents.from_frame(as_categories, teachers, items)
    for field in ("row", "col", "kind", "value", "timestamp"):
        np.testing.assert_array_equal(getattr(coded, field), getattr(plain, field))
    want, got = completion_split(plain, 2, 1), completion_split(coded, 2, 1)
    np.testing.assert_array_equal(got.keep, want.keep)
    np.testing.assert_array_equal(got.rows, want.rows)
    np.testing.assert_array_equal(got.cols, want.cols)
