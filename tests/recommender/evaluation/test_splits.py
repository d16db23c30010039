"""Splits: stratified per-user ratio and time split without leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.evaluation.splits import holdout_users, stratified_split, time_split


def test_stratified_split_keeps_three_quarters_of_each_user(rng):
    frame = pd.DataFrame({"user_id": np.repeat(["u1", "u2"], [20, 8]), "item_id": np.arange(28)})
    train, test = stratified_split(frame, 0.75, seed=1)
    assert train.groupby("user_id").size().to_dict() == {"u1": 15, "u2": 6}
    assert len(train) + len(test) == 28 and not set(train.index) & set(test.index)


def test_time_split_holds_out_latest_items_and_drops_later_events():
    t = pd.Timestamp("2024-01-01")
    events = pd.DataFrame(
        {
            "teacher_id": ["a"] * 5,
            "item_id": ["x", "y", "z", "x", "w"],
            "event": ["enrol"] * 3 + ["complete", "enrol"],
            "value": np.nan,
            "timestamp": [
                t,
                t + pd.Timedelta(days=1),
                t + pd.Timedelta(days=2),
                t + pd.Timedelta(days=5),
                t + pd.Timedelta(days=3),
            ],
        }
    )
    train, test = time_split(events, holdout_items=2, min_train_items=2)
    assert set(test["item_id"]) == {"z", "w"}
    assert train["timestamp"].max() < t + pd.Timedelta(days=2)
    assert set(train["item_id"]) == {"x", "y"}


def test_users_with_short_history_stay_in_training():
    events = pd.DataFrame(
        {
            "teacher_id": ["a", "a"],
            "item_id": ["x", "y"],
            "event": "enrol",
            "value": np.nan,
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    train, test = time_split(events, holdout_items=1, min_train_items=2)
    assert test.empty and len(train) == 2


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_holdout_share_must_be_a_proper_fraction(share):
    with pytest.raises(ValueError):
        holdout_users(np.arange(5), share, seed=0)


def test_time_split_on_completions_holds_out_the_last_completed_items():
    import pandas as pd

    from recommender.evaluation.splits import time_split

    rows = [
        ("T1", "a", "enrol", 1),
        ("T1", "a", "complete", 2),
        ("T1", "b", "enrol", 3),  # started, never completed: not a candidate
        ("T1", "c", "enrol", 4),
        ("T1", "c", "complete", 9),
        ("T1", "d", "enrol", 5),
        ("T1", "d", "complete", 6),
        ("T1", "e", "enrol", 7),
        ("T1", "e", "complete", 8),
    ]
    events = pd.DataFrame(rows, columns=["teacher_id", "item_id", "event", "day"])
    events["timestamp"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(events.pop("day"), "D")
    train, test = time_split(events, holdout_items=2, min_train_items=2, event="complete")
    # completions in order a (2), d (6), e (8), c (9): the last two are e and c
    assert sorted(test["item_id"]) == ["c", "e"]
    # cut at the first touch of a held-out item (c enrolled on day 4)
    assert set(train["item_id"]) == {"a", "b"}
    assert test.set_index("item_id").loc["c", "timestamp"] == pd.Timestamp("2021-01-05")
