"""Colleague signals beyond plain counts: co-completion within the school, and the district.

Teachers of one school share a timetable, a 教研组长 and a platform account manager, so what a
colleague who finished the same courses as you finished next says more than what the whole
province finished. Two signals come from that:

- ``colleague_cocompletion``: a user-kNN restricted to the school. Each colleague who completed
  any of the teacher's completions is weighted by the overlap (cosine over completion sets), and
  the items those colleagues completed are summed with those weights. This is item-item
  co-completion inside the school (Σ over her completions of "colleagues who completed this also
  completed that"), computed school by school so the cost grows with a school, not the province;
- ``district_completers`` / ``district_share``: completions in the teacher's 区县 (schools of one
  district follow one 教研室 and its training plan), the teacher excluded.

Neither reads anything but the completed matrix and the school and district of each teacher.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["colleague_cocompletion", "district_counts", "district_rows"]


def district_rows(districts: NDArray[np.str_]) -> NDArray[np.int64]:
    """Per school, the row of its district (schools without a district share one row)."""
    return np.unique(np.asarray(districts, dtype=str), return_inverse=True)[1].astype(np.int64)


def district_counts(
    school_completed: NDArray[np.float32],
    school_district: NDArray[np.int64],
    school_sizes: NDArray[np.float32],
    school_rows: NDArray[np.int64],
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Completions per item in each row's district, and the district's teachers.

    Only the districts of ``school_rows`` are summed, so one request costs one district.
    """
    district_of = school_district[school_rows]
    wanted = np.unique(district_of)
    counts = np.zeros((len(wanted), school_completed.shape[1]), dtype=np.float32)
    sizes = np.zeros(len(wanted), dtype=np.float32)
    for i, district in enumerate(wanted.tolist()):
        members = school_district == district
        counts[i] = school_completed[members].sum(axis=0)
        sizes[i] = school_sizes[members].sum()
    position = np.searchsorted(wanted, district_of)
    return counts[position], sizes[position]


def colleague_cocompletion(
    rows: NDArray[np.int64],
    completed: sp.csr_matrix,
    school_row: NDArray[np.int64],
) -> NDArray[np.float32]:
    """batch × items: completions of same-school colleagues, weighted by completion overlap.

    ``weight(t, c) = |C_t ∩ C_c| / sqrt(|C_t| · |C_c|)`` (cosine of the two completion sets), the
    teacher herself excluded; the score of an item is Σ_c weight(t, c) · [c completed it],
    reported as log(1 + score · 10) so a few strong neighbours and many weak ones stay apart.
    A teacher with no completion, or without a colleague sharing one, scores 0 everywhere.

    Examples
    --------
    >>> done = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=np.float32))
    >>> score = colleague_cocompletion(np.array([0]), done, np.zeros(3, dtype=np.int64))
    >>> score.astype(float).round(3).tolist()
    [[1.792, 0.0, 1.792]]
    """
    rows = np.asarray(rows, dtype=np.int64)
    done = (completed > 0).astype(np.float32).tocsr()
    n_items = done.shape[1]
    out = np.zeros((len(rows), n_items), dtype=np.float32)
    counts = np.asarray(done.sum(axis=1), dtype=np.float32).ravel()
    schools = school_row[rows]
    for school in np.unique(schools).tolist():
        members = np.flatnonzero(school_row == school)
        at = np.flatnonzero(schools == school)
        colleagues = done[members]
        overlap = np.asarray((done[rows[at]] @ colleagues.T).todense(), dtype=np.float32)
        norm = np.sqrt(np.outer(counts[rows[at]], counts[members]))
        weight = np.where(norm > 0, overlap / np.maximum(norm, 1e-9), 0.0)
        weight[rows[at][:, None] == members[None, :]] = 0.0
        out[at] = np.asarray(colleagues.T @ weight.T, dtype=np.float32).T
    return np.log1p(10.0 * out).astype(np.float32)
