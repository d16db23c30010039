"""Train/test splits for offline evaluation.

Two protocols live here. :func:`stratified_split` is the Microsoft Recommenders MovieLens
protocol: each user's interactions are shuffled and 75 % go to training, so every user appears
in both parts. :func:`time_split` is the deployment-shaped protocol for teachers: each teacher's
*latest* items are held out, so the model is asked what the teacher did next, never what they did
before something it already saw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["holdout_users", "stratified_split", "time_split"]


def stratified_split(
    interactions: pd.DataFrame,
    ratio: float = 0.75,
    user_col: str = "user_id",
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each user's rows at random, ``ratio`` of them (rounded) into the training part.

    Parameters
    ----------
    interactions
        One row per interaction with a ``user_col`` column.
    ratio
        Share of each user's rows that go to training, strictly between 0 and 1.
    seed
        Seed of the per-user shuffle.
    """
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"ratio={ratio} must lie strictly between 0 and 1")
    if user_col not in interactions:
        raise ValueError(
            f"interactions has no column {user_col!r}; columns are {list(interactions.columns)}"
        )
    rng = np.random.default_rng(seed)
    shuffled = interactions.iloc[rng.permutation(len(interactions))]
    position = shuffled.groupby(user_col, sort=False).cumcount().to_numpy()
    counts = shuffled.groupby(user_col, sort=False)[user_col].transform("size").to_numpy()
    in_train = position < np.round(counts * ratio)
    return shuffled[in_train].sort_index(), shuffled[~in_train].sort_index()


def time_split(
    events: pd.DataFrame,
    holdout_items: int = 2,
    min_train_items: int = 2,
    user_col: str = "teacher_id",
    event: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's last ``holdout_items`` distinct items.

    With ``event=None`` an item's first event (usually the enrolment) dates it and the most
    recently *started* items are held out. With ``event="complete"`` only items the user
    completed are candidates and they are dated by their completion: the user's last
    completions are held out, which is the question the service answers ("what will she finish
    next"). Either way, every event at or after the earliest *first touch* of a held-out item is
    removed from training, so the training log ends before the held-out items were begun. A user
    needs at least ``holdout_items + min_train_items`` candidate items to be tested; users with
    less history keep all their events in training and contribute no test rows.

    Returns
    -------
    train_events, test_pairs
        ``test_pairs`` has one row per held-out (user, item) with the item's first-touch
        ``timestamp``.
    """
    if holdout_items < 1:
        raise ValueError(f"holdout_items={holdout_items} must be at least 1")
    touched = events.groupby([user_col, "item_id"], sort=False, observed=True)["timestamp"].min()
    if event is None:
        dated = touched
    else:
        dated = (
            events[events["event"] == event]
            .groupby([user_col, "item_id"], sort=False, observed=True)["timestamp"]
            .min()
        )
    first = (
        dated.rename("dated_at")
        .reset_index()
        .sort_values([user_col, "dated_at", "item_id"], kind="mergesort")
    )
    rank_from_end = first.groupby(user_col, sort=False).cumcount(ascending=False).to_numpy()
    n_items = first.groupby(user_col, sort=False)[user_col].transform("size").to_numpy()
    eligible = n_items >= holdout_items + min_train_items
    test_pairs = first[eligible & (rank_from_end < holdout_items)].reset_index(drop=True)
    index = pd.MultiIndex.from_frame(test_pairs[[user_col, "item_id"]])
    test_pairs = test_pairs.drop(columns="dated_at").assign(
        timestamp=touched.reindex(index).to_numpy()
    )
    if test_pairs.empty:
        return events.reset_index(drop=True), test_pairs
    cutoff = test_pairs.groupby(user_col)["timestamp"].min()
    user_cutoff = events[user_col].map(cutoff)
    keep = user_cutoff.isna() | (events["timestamp"] < user_cutoff)
    train = events[keep.to_numpy()]
    # Items started before the cutoff but touched again later stay known; a held-out item
    # never appears in training because its first event is at or after the cutoff.
    return train.reset_index(drop=True), test_pairs


def holdout_users(user_ids: pd.Index | np.ndarray, share: float, seed: int) -> np.ndarray:
    """Pick ``share`` of the users (at least one) as cold-start users, reproducibly."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"share={share} must lie strictly between 0 and 1")
    ids = np.asarray(user_ids)
    rng = np.random.default_rng(seed)
    n = max(1, int(round(len(ids) * share)))
    return np.sort(rng.choice(ids, size=n, replace=False))
