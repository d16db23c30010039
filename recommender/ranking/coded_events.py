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

__all__ = ["CodedEvents", "latest_item_split"]

#: Event kinds in code order (``kind`` column values).
KINDS: tuple[str, ...] = ("enrol", "progress", "complete", "rate")


def _codes(
    values: pd.Series, known: NDArray[np.str_]
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]]:
    """Factorise ``values``: per row a code, per code its position in ``known`` (or -1) and its
    rank in string order (the order the pandas split sorts by)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques_str = np.asarray(pd.Index(uniques).astype(str), dtype=str)
    position = pd.Index(known).get_indexer(uniques_str)
    rank = np.empty(len(uniques_str), dtype=np.int64)
    rank[np.argsort(uniques_str, kind="stable")] = np.arange(len(uniques_str))
    return codes.astype(np.int32), position.astype(np.int64), rank


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
        kinds = pd.Index(KINDS).get_indexer(pd.Index(events["event"].astype(str)))
        if (kinds < 0).any():
            unknown = sorted(set(events["event"].astype(str)[kinds < 0]))
            raise ValueError(
                f"events column 'event' has unknown kinds {unknown}; expected {sorted(KINDS)}"
            )
        teacher, teacher_row, teacher_rank = _codes(events["teacher_id"], teacher_ids)
        item, item_col, item_rank = _codes(events["item_id"], item_ids)
        stamps = pd.to_datetime(events["timestamp"]).to_numpy(dtype="datetime64[ns]")
        return cls(
            teacher=teacher,
            item=item,
            row=np.where(teacher >= 0, teacher_row[teacher], -1).astype(np.int32),
            col=np.where(item >= 0, item_col[item], -1).astype(np.int32),
            teacher_rank=teacher_rank,
            item_rank=item_rank,
            kind=kinds.astype(np.int8),
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
        scale = np.ones(len(self.kind), dtype=np.float64)
        value = self.value.astype(np.float64)
        progress = self.kind == 1
        scale[progress] = np.clip(np.nan_to_num(value[progress], nan=0.0), 0.0, 1.0)
        rate = self.kind == 3
        scale[rate] = np.clip((np.nan_to_num(value[rate], nan=1.0) - 1.0) / 4.0, 0.0, 1.0)
        mask = (self.row >= 0) & (self.col >= 0)
        if keep is not None:
            mask &= keep
        conf = (per_kind[self.kind] * scale)[mask].astype(np.float32)
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
