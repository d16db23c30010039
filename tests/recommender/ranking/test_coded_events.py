"""The coded event log gives the same split and matrices as the pandas helpers it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.evaluation.splits import time_split
from recommender.ranking.cf import confidence_matrix
from recommender.ranking.coded_events import CodedEvents, latest_item_split


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
