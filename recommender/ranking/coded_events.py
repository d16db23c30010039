"""The event log as integer codes: one pass over the strings, then everything in numpy.

Fitting reads the events four times (validation split, inner and final confidence, completed
matrices). On a million-teacher province that is 30–60 million rows of teacher and item ids, and
every ``pd.Index.get_indexer`` over them converts the strings again (most of the fit time before
this module existed) while holding a Python object per id (most of the peak memory). Here the ids
are factorised once (``pd.factorize`` reads Arrow and categorical columns without building Python
strings), and the validation split and the matrices work on int32 rows, int32 columns, an int8
event kind, a float32 value and int64 timestamps — 21 bytes an event.

:func:`latest_item_split` reproduces
:func:`recommender.evaluation.splits.time_split` with ``holdout_items=1, min_train_items=1`` (the
split ``fit`` uses) on these codes; ``tests/recommender/ranking/test_coded_events.py`` pins the
two to each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.ranking.cf import DEFAULT_EVENT_WEIGHTS

__all__ = ["CodedEvents", "CompletionSplit", "completion_split", "latest_item_split"]

#: Events per chunk of the per-event confidence arithmetic.
_CHUNK = 1 << 22

#: Event kinds in code order (``kind`` column values).
KINDS: tuple[str, ...] = ("enrol", "progress", "complete", "rate")


def _factorize(values: pd.Series) -> tuple[NDArray[np.int32], pd.Index]:
    """Per row a code (-1 for a missing value) and the distinct values, without an int64 copy.

    A categorical column (the Parquet dictionary ``nengli train`` reads) already is codes; any
    other column is factorised (codes narrowed to int32 at once).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return np.asarray(values.cat.codes, dtype=np.int32), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int32), pd.Index(uniques)


def _codes(
    values: pd.Series, known: NDArray[np.str_]
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int64]]:
    """Factorise ``values``: per row a code, per row its position in ``known`` (or -1) and per
    code its rank in string order (the order the pandas split sorts by)."""
    codes, uniques = _factorize(values)
    uniques_str = np.asarray(uniques.astype(str), dtype=str)
    # One slot more for code -1 (a missing id), which then reads position -1.
    position = np.append(pd.Index(known).get_indexer(uniques_str), -1).astype(np.int32)
    rank = np.empty(len(uniques_str), dtype=np.int64)
    rank[np.argsort(uniques_str, kind="stable")] = np.arange(len(uniques_str))
    return codes, position[codes], rank


@dataclass(frozen=True)
class CodedEvents:
    """Events as codes against the model's teacher rows and item columns.

    Attributes
    ----------
    teacher, item
        Per event the factorised teacher and item code (every id in the log, known or not).
    row, col
        Per event the row in the teacher table and the column in the item table, -1 when the
        model does not know the id (such events are dropped from the matrices, as
        :func:`~recommender.ranking.cf.confidence_matrix` drops them).
    teacher_rank, item_rank
        Per teacher / item code its rank in string order (the order the pandas split sorts
        by: it breaks ties between same-time items and orders the held-out pairs).
    kind, value, timestamp
        Event kind code (:data:`KINDS`), value (NaN when absent) and time in nanoseconds.
    n_rows, n_cols
        Shape of the teacher × item matrices.
    """

    teacher: NDArray[np.int32]
    item: NDArray[np.int32]
    row: NDArray[np.int32]
    col: NDArray[np.int32]
    teacher_rank: NDArray[np.int64]
    item_rank: NDArray[np.int64]
    kind: NDArray[np.int8]
    value: NDArray[np.float32]
    timestamp: NDArray[np.int64]
    n_rows: int
    n_cols: int

    @classmethod
    def from_frame(
        cls, events: pd.DataFrame, teacher_ids: NDArray[np.str_], item_ids: NDArray[np.str_]
    ) -> CodedEvents:
        """Code ``events`` (columns teacher_id, item_id, event, value, timestamp)."""
        kind_codes, kind_names = _factorize(events["event"])
        kind_of = pd.Index(KINDS).get_indexer(kind_names.astype(str))
        used = np.bincount(kind_codes[kind_codes >= 0], minlength=len(kind_names)) > 0
        if (kind_codes < 0).any() or ((kind_of < 0) & used).any():
            names = events["event"].astype(str)
            unknown = sorted(set(names[~names.isin(KINDS)]))
            raise ValueError(
                f"events column 'event' has unknown kinds {unknown}; expected {sorted(KINDS)}"
            )
        kinds = kind_of.astype(np.int8)[kind_codes]
        del kind_codes
        teacher, row, teacher_rank = _codes(events["teacher_id"], teacher_ids)
        item, col, item_rank = _codes(events["item_id"], item_ids)
        stamps = pd.to_datetime(events["timestamp"]).to_numpy(dtype="datetime64[ns]")
        return cls(
            teacher=teacher,
            item=item,
            row=row,
            col=col,
            teacher_rank=teacher_rank,
            item_rank=item_rank,
            kind=kinds,
            value=events["value"].to_numpy(dtype=np.float32, na_value=np.nan),
            timestamp=stamps.view(np.int64),
            n_rows=len(teacher_ids),
            n_cols=len(item_ids),
        )

    def confidence(
        self, keep: NDArray[np.bool_] | None, weights: Mapping[str, float] | None
    ) -> sp.csr_matrix:
        """Teachers × items confidence of the events ``keep`` selects (all when ``None``).

        Same numbers as :func:`~recommender.ranking.cf.confidence_matrix`: progress scaled by
        its value, a rating by ``(stars - 1) / 4``, summed per pair, floored at 1e-3.
        """
        table = dict(DEFAULT_EVENT_WEIGHTS if weights is None else weights)
        per_kind = np.array([table.get(k, 0.0) for k in KINDS], dtype=np.float64)
        mask = (self.row >= 0) & (self.col >= 0)
        if keep is not None:
            mask &= keep
        # Elementwise in float64 as the pandas helper, a chunk of events at a time: four
        # float64 arrays over the whole log would be most of the fit's peak at province scale.
        parts = []
        for start in range(0, len(self.kind), _CHUNK):
            chosen = mask[start : start + _CHUNK]
            kind = self.kind[start : start + _CHUNK][chosen]
            value = self.value[start : start + _CHUNK][chosen].astype(np.float64)
            scale = np.ones(len(kind), dtype=np.float64)
            progress = kind == 1
            scale[progress] = np.clip(np.nan_to_num(value[progress], nan=0.0), 0.0, 1.0)
            rate = kind == 3
            scale[rate] = np.clip((np.nan_to_num(value[rate], nan=1.0) - 1.0) / 4.0, 0.0, 1.0)
            parts.append((per_kind[kind] * scale).astype(np.float32))
        conf = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        matrix = sp.coo_matrix(
            (conf, (self.row[mask], self.col[mask])), shape=(self.n_rows, self.n_cols)
        ).tocsr()
        matrix.sum_duplicates()
        matrix.data = np.maximum(matrix.data, np.float32(1e-3))
        return matrix

    def completed(self, keep: NDArray[np.bool_] | None) -> sp.csr_matrix:
        """Teachers × items, 1.0 where the teacher completed the item (among ``keep``)."""
        mask = (self.row >= 0) & (self.col >= 0) & (self.kind == 2)
        if keep is not None:
            mask &= keep
        matrix = sp.csr_matrix(
            (
                np.ones(int(mask.sum()), dtype=np.float32),
                (self.row[mask], self.col[mask]),
            ),
            shape=(self.n_rows, self.n_cols),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix


def latest_item_split(
    events: CodedEvents,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """Hold out each teacher's most recently started item (teachers with two items or more).

    An item is dated by its first event; ties go to the larger item id in string order (as
    ``time_split`` sorts). Every event of the teacher at or after that first touch leaves the
    training log.

    Returns
    -------
    keep, rows, cols
        The training events (mask over ``events``) and the held-out pairs as teacher rows and
        item columns; pairs whose teacher or item the model does not know are left out, as
        ``fit`` would drop them.
    """
    valid = events.teacher >= 0
    n_items = int(events.item_rank.size)
    pair = events.teacher.astype(np.int64) * max(n_items, 1) + events.item
    pair = np.where(valid & (events.item >= 0), pair, -1)
    # One sort by (pair, time): each pair's first row is its first touch.
    by_pair = np.lexsort((events.timestamp, pair))
    sorted_pair = pair[by_pair]
    starts = (
        np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]]) if pair.size else by_pair
    )
    first_event = by_pair[starts]
    pairs = sorted_pair[starts]
    first = events.timestamp[first_event]
    used = pairs >= 0
    pairs, first, first_event = pairs[used], first[used], first_event[used]
    pair_teacher = pairs // max(n_items, 1)
    pair_item = pairs % max(n_items, 1)
    order = np.lexsort((events.item_rank[pair_item], first, pair_teacher))
    sorted_teacher = pair_teacher[order]
    last = np.r_[sorted_teacher[1:] != sorted_teacher[:-1], True]
    counts = np.bincount(sorted_teacher, minlength=int(events.teacher.max(initial=-1)) + 1)
    held = order[last & (counts[sorted_teacher] >= 2)]
    cutoff = np.full(counts.size, np.iinfo(np.int64).max, dtype=np.int64)
    cutoff[pair_teacher[held]] = first[held]
    teacher = np.where(valid, events.teacher, 0)
    keep = ~valid | (events.timestamp < cutoff[teacher])
    # Held-out pairs in teacher-id order (one per teacher), as model rows and columns.
    held = held[np.argsort(events.teacher_rank[pair_teacher[held]], kind="stable")]
    event_of = first_event[held]
    rows = events.row[event_of].astype(np.int64)
    cols = events.col[event_of].astype(np.int64)
    ok = (rows >= 0) & (cols >= 0)
    return keep, rows[ok], cols[ok]


@dataclass(frozen=True)
class CompletionSplit:
    """The training events and held-out completions of :func:`completion_split`.

    Attributes
    ----------
    keep
        Mask over the coded events: those before each tested teacher's first held-out touch.
    n_held
        Held-out (teacher, item) pairs, known to the model or not (``time_split``'s row count).
    rows, cols
        The held-out pairs whose teacher and item the model knows, as rows and columns.
    first_touch
        Per held-out pair (all of them) the event that first touched it: ``time_split``'s
        ``timestamp`` of the pair is that event's.
    """

    keep: NDArray[np.bool_]
    n_held: int
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    first_touch: NDArray[np.int64]


def _first_per_pair(
    pair: NDArray[np.int64], timestamp: NDArray[np.int64], among: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per distinct pair of the events ``among`` (pair ≥ 0), its earliest event: (pairs, event)."""
    among = among[pair[among] >= 0]
    by_pair = among[np.lexsort((timestamp[among], pair[among]))]
    sorted_pair = pair[by_pair]
    starts = (
        np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
        if by_pair.size
        else by_pair
    )
    return sorted_pair[starts], by_pair[starts]


def completion_split(
    events: CodedEvents, holdout_items: int, min_train_items: int
) -> CompletionSplit:
    """:func:`~recommender.evaluation.splits.time_split` with ``event="complete"``, on codes.

    A teacher with at least ``holdout_items + min_train_items`` completed items has her last
    ``holdout_items`` completions held out (an item dated by its first completion, ties to the
    larger item id in string order); every event of hers at or after the earliest first touch of
    a held-out item leaves the training log. ``fit`` uses it instead of the pandas split: on a
    million teachers that split's group-bys and copy of the log were most of the fit's peak
    memory. ``tests/recommender/ranking/test_coded_events.py`` pins the two to each other.
    """
    if holdout_items < 1:
        raise ValueError(f"holdout_items={holdout_items} must be at least 1")
    n_items = max(int(events.item_rank.size), 1)
    valid = events.teacher >= 0
    pair = np.where(
        valid & (events.item >= 0), events.teacher.astype(np.int64) * n_items + events.item, -1
    )
    done_pairs, done_event = _first_per_pair(
        pair, events.timestamp, np.flatnonzero(events.kind == KINDS.index("complete"))
    )
    done_teacher = done_pairs // n_items
    done_item = done_pairs % n_items
    dated = events.timestamp[done_event]
    order = np.lexsort((events.item_rank[done_item], dated, done_teacher))
    sorted_teacher = done_teacher[order]
    n_codes = max(int(events.teacher.max(initial=-1)) + 1, 1)
    counts = np.bincount(sorted_teacher, minlength=n_codes)
    # Position counted from the teacher's last completion (0 = last).
    group_end = np.cumsum(counts)[sorted_teacher] - 1
    from_end = group_end - np.arange(sorted_teacher.size)
    held = order[
        (from_end < holdout_items) & (counts[sorted_teacher] >= holdout_items + min_train_items)
    ]
    # Held-out pairs in teacher-id order, then by completion (time_split's row order).
    held = held[
        np.lexsort(
            (
                events.item_rank[done_item[held]],
                dated[held],
                events.teacher_rank[done_teacher[held]],
            )
        )
    ]
    # First touches are needed of the held-out pairs only: find their events (a lookup in the
    # sorted held-out pairs) instead of sorting the whole log by pair and time.
    held_pairs = done_pairs[held]
    wanted = np.sort(held_pairs)
    if wanted.size:
        slot = np.minimum(np.searchsorted(wanted, pair), wanted.size - 1)
        of_held = np.flatnonzero(wanted[slot] == pair)
        del slot
    else:
        of_held = np.zeros(0, dtype=np.int64)
    touched_pairs, touched_event = _first_per_pair(pair, events.timestamp, of_held)
    del pair
    first_touch = touched_event[np.searchsorted(touched_pairs, held_pairs)]
    cutoff = np.full(n_codes, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(cutoff, done_teacher[held], events.timestamp[first_touch])
    keep = ~valid | (events.timestamp < cutoff[np.where(valid, events.teacher, 0)])
    rows = events.row[first_touch].astype(np.int64)
    cols = events.col[first_touch].astype(np.int64)
    known = (rows >= 0) & (cols >= 0)
    return CompletionSplit(keep, int(held.size), rows[known], cols[known], first_touch)
